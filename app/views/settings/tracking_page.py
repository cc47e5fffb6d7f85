"""Settings > Tracking: how a branch responds to carrier events (each ERP response on or off),
how often it polls, when tracking counts as stale, when another workstation takes over, the
customer notice templates (with a preview), and one customer's notice address and choices.

Rules and storage are ``services.tracking.policy`` / ``notices`` / ``templates``; saving is a
write op, and the service refuses anyone without ``tracking.configure`` (manager, admin) with a
sentence shown here.

Signals: saved(str) after the policy or a customer's preferences were saved; failed(str).
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.db import local_branch_id
from app.services.tracking import notices, policy, templates
from app.views.context import AppContext

RESPONSES = (
    ("order_shipped_on_pickup", "Picked up: the order becomes shipped"),
    ("late_eta_exception", "ETA after the promised date: a case for the account team"),
    ("trouble_cases", "Exception, failed attempt, return, no movement: a case for the dispatcher"),
    ("notice_shipped", "Tell the customer: shipped"),
    ("notice_eta", "Tell the customer: new delivery date"),
    ("notice_delivered", "Tell the customer: delivered"),
    ("notice_exception", "Tell the customer: a problem with the delivery"),
)
NUMBERS = (
    ("label_minutes", "New label: poll every (min)", 1, 1440), ("transit_minutes", "Moving: every (min)", 1, 1440),
    ("out_minutes", "Out for delivery: every (min)", 1, 240), ("trouble_minutes", "Trouble: every (min)", 1, 240),
    ("unknown_minutes", "Not known yet: every (min)", 1, 1440), ("stale_days", "Stale after (days)", 1, 60),
    ("lease_minutes", "Another workstation takes over after (min)", 2, 240),
)
NOTICE_KINDS = tuple(templates.DEFAULTS)
KIND_TITLES = {"shipped": "Shipped", "eta": "New delivery date", "delivered": "Delivered", "exception": "Problem"}


class TrackingSettingsPage(QWidget):
    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("trackingSettings")
        self.can = ctx.can("tracking.configure")
        self.templates: dict[str, dict[str, str]] = {}
        self.branch = QComboBox()
        self.branch.setObjectName("trackingBranch")
        self.checks = {name: QCheckBox(text) for name, text in RESPONSES}
        self.numbers = {}
        for name, _label, low, high in NUMBERS:
            box = QSpinBox()
            box.setRange(low, high)
            self.numbers[name] = box
        self.kind = QComboBox()
        for k in NOTICE_KINDS:
            self.kind.addItem(KIND_TITLES[k], k)
        self.subject = QLineEdit()
        self.body = QPlainTextEdit()
        self.body.setMinimumHeight(110)
        self.preview = QLabel("")
        self.preview.setObjectName("trackingPreview")
        self.preview.setWordWrap(True)
        self.reset_template = QPushButton("Built-in text")
        self.save_button = QPushButton("Save tracking settings")
        self.save_button.setObjectName("trackingSave")
        self.status = QLabel("")
        self.status.setObjectName("trackingSettingsStatus")
        self.status.setWordWrap(True)
        self.customer = QLineEdit()
        self.customer.setPlaceholderText("Customer code")
        self.load_customer = QPushButton("Load")
        self.cust_email = QLineEdit()
        self.cust_email.setPlaceholderText("blank: its contact address")
        self.cust_kinds = {k: QCheckBox(KIND_TITLES[k]) for k in NOTICE_KINDS}
        self.cust_save = QPushButton("Save customer")
        self.cust_status = QLabel("")
        self.cust_status.setWordWrap(True)
        for w in (*self.checks.values(), *self.numbers.values(), self.subject, self.body, self.reset_template,
                  self.save_button):
            w.setEnabled(self.can)
            if not self.can:
                w.setToolTip("A manager changes the tracking settings")
        can_customer = ctx.can("tracking.poll") or self.can
        for w in (self.cust_email, *self.cust_kinds.values(), self.cust_save):
            w.setEnabled(can_customer)
        self._build()
        self._connect_signals()
        self._load_branches()

    def _build(self) -> None:
        responses = QGroupBox("What happens when the carrier reports")
        rl = QVBoxLayout(responses)
        for w in self.checks.values():
            rl.addWidget(w)
        polling = QGroupBox("Polling")
        pl = QFormLayout(polling)
        for name, label, _lo, _hi in NUMBERS:
            pl.addRow(label, self.numbers[name])
        tpl = QGroupBox("Customer notice templates")
        tl = QFormLayout(tpl)
        head = QHBoxLayout()
        head.addWidget(self.kind, 1)
        head.addWidget(self.reset_template)
        tl.addRow("Notice", head)
        tl.addRow("Subject", self.subject)
        tl.addRow("Body", self.body)
        names = QLabel("Placeholders: " + ", ".join(f"${p}" for p in templates.PLACEHOLDERS))
        names.setWordWrap(True)
        tl.addRow(names)
        tl.addRow("Preview", self.preview)
        cust = QGroupBox("A customer's notices")
        cl = QFormLayout(cust)
        row = QHBoxLayout()
        row.addWidget(self.customer, 1)
        row.addWidget(self.load_customer)
        cl.addRow("Customer", row)
        cl.addRow("Notice address", self.cust_email)
        kinds = QHBoxLayout()
        for w in self.cust_kinds.values():
            kinds.addWidget(w)
        cl.addRow("Sends", kinds)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cust_save)
        buttons.addWidget(self.cust_status, 1)
        cl.addRow(buttons)
        grid = QGridLayout()
        grid.addWidget(responses, 0, 0)
        grid.addWidget(polling, 0, 1)
        grid.addWidget(tpl, 1, 0)
        grid.addWidget(cust, 1, 1)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        top = QHBoxLayout()
        top.addWidget(QLabel("Branch"))
        top.addWidget(self.branch)
        top.addStretch(1)
        top.addWidget(self.save_button)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addLayout(grid)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _connect_signals(self) -> None:
        self.branch.currentIndexChanged.connect(lambda _i: self.load())
        self.kind.currentIndexChanged.connect(lambda _i: self._show_template())
        self.subject.textEdited.connect(lambda _t: self._edit_template())
        self.body.textChanged.connect(self._edit_template)
        self.reset_template.clicked.connect(self._reset_template)
        self.save_button.clicked.connect(self.save)
        self.load_customer.clicked.connect(self.load_customer_prefs)
        self.customer.returnPressed.connect(self.load_customer_prefs)
        self.cust_save.clicked.connect(self.save_customer)

    # the policy -----------------------------------------------------------------------------
    def _load_branches(self) -> None:
        def fill(data: tuple[list[tuple[uuid.UUID, str, str]], uuid.UUID | None]) -> None:
            rows, own = data
            self.branch.blockSignals(True)
            for bid, code, name in rows:
                self.branch.addItem(f"{code} {name}", bid)
            if own is not None and self.branch.findData(own) >= 0:
                self.branch.setCurrentIndex(self.branch.findData(own))
            self.branch.blockSignals(False)
            self.load()

        self.ctx.runner.submit(lambda s: (policy.branches(s), local_branch_id(s)), fill, write=False,
                               label="tracking branches")

    def branch_id(self) -> uuid.UUID | None:
        data = self.branch.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def load(self) -> None:
        bid = self.branch_id()
        if bid is None:
            return
        self.ctx.runner.submit(lambda s: policy.policy_for(s, bid), self._show, write=False, label="tracking settings",
                               latest=(id(self), "policy"))

    def _show(self, pol: policy.Policy) -> None:
        for name, box in self.checks.items():
            box.setChecked(bool(getattr(pol, name)))
        for name, spin in self.numbers.items():
            spin.setValue(int(getattr(pol, name)))
        self.templates = {k: dict(v) for k, v in pol.templates.items()}
        self._show_template()

    def _current_template(self) -> dict[str, str]:
        kind = str(self.kind.currentData())
        return {**templates.DEFAULTS[kind], **self.templates.get(kind, {})}

    def _show_template(self) -> None:
        tpl = self._current_template()
        self.subject.blockSignals(True)
        self.body.blockSignals(True)
        self.subject.setText(tpl["subject"])
        self.body.setPlainText(tpl["body"])
        self.subject.blockSignals(False)
        self.body.blockSignals(False)
        self._preview()

    def _edit_template(self) -> None:
        kind = str(self.kind.currentData())
        entry = {"subject": self.subject.text(), "body": self.body.toPlainText()}
        if entry == templates.DEFAULTS[kind]:
            self.templates.pop(kind, None)
        else:
            self.templates[kind] = entry
        self._preview()

    def _reset_template(self) -> None:
        self.templates.pop(str(self.kind.currentData()), None)
        self._show_template()

    def _preview(self) -> None:
        kind = str(self.kind.currentData())
        try:
            templates.check_templates({kind: {"subject": self.subject.text(), "body": self.body.toPlainText()}})
        except Exception as e:  # noqa: BLE001 - the rule's own sentence, shown while typing
            self.preview.setStyleSheet("color: #b00020;")
            self.preview.setText(str(e))
            return
        subject, body = templates.render(kind, templates.SAMPLE, self.templates)
        self.preview.setStyleSheet("")
        self.preview.setText(f"<b>{_esc(subject)}</b><br>{_esc(body).replace(chr(10), '<br>')}")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: box.isChecked() for name, box in self.checks.items()}
        out.update({name: spin.value() for name, spin in self.numbers.items()})
        out["templates"] = self.templates
        return out

    def save(self) -> None:
        bid = self.branch_id()
        if bid is None:
            return
        values = self.values()
        actor = self.ctx.actor

        def done(_pol: object) -> None:
            self.status.setStyleSheet("")
            self.status.setText(f"saved: {self.branch.currentText()} polls and responds this way from its next cycle")
            self.saved.emit(self.status.text())

        self.ctx.runner.submit(lambda s: policy.save_policy(s, actor, bid, **values), done, on_error=self._failed,
                               kinds=("tracking",), label="save tracking settings")

    def _failed(self, e: BaseException) -> None:
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(str(e))
        self.failed.emit(str(e))

    # one customer -----------------------------------------------------------------------------
    def load_customer_prefs(self) -> None:
        code = self.customer.text().strip()
        if not code:
            return

        def show(p: notices.Preferences) -> None:
            self.cust_email.setText(p.email if p.own_email else "")
            self.cust_email.setPlaceholderText(f"blank: {p.email or 'no contact address'}" if not p.own_email
                                               else "blank: its contact address")
            for k, box in self.cust_kinds.items():
                box.setChecked(k in p.events)
            self.cust_status.setStyleSheet("")
            self.cust_status.setText(f"{p.customer} {p.name}")

        self.ctx.runner.submit(lambda s: notices.preferences(s, code), show, on_error=self._cust_failed, write=False,
                               label="customer notices")

    def save_customer(self) -> None:
        code = self.customer.text().strip()
        email = self.cust_email.text().strip()
        kinds = [k for k, box in self.cust_kinds.items() if box.isChecked()]
        actor = self.ctx.actor

        def save(s: Session) -> notices.Preferences:
            return notices.set_preferences(s, actor, code, email=email, events=kinds)

        def done(p: notices.Preferences) -> None:
            self.cust_status.setStyleSheet("")
            self.cust_status.setText(f"saved: {p.customer} gets {', '.join(p.events) or 'no notices'} at "
                                     f"{p.email or '(no address)'}")
            self.saved.emit(self.cust_status.text())

        self.ctx.runner.submit(save, done, on_error=self._cust_failed, kinds=("customer",), label="save customer notices")

    def _cust_failed(self, e: BaseException) -> None:
        self.cust_status.setStyleSheet("color: #b00020;")
        self.cust_status.setText(str(e))
        self.failed.emit(str(e))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
