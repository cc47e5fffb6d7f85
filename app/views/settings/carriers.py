"""Settings > Carriers: this branch's carrier accounts, the services each may ship with, and a
"Test connection" that answers in one sentence (connected, credentials refused, unreachable...).

Rules and storage are ``app.services.carriers.accounts``; secrets go to the keyring only and are
never shown back (the field says whether one is stored). The test's HTTP runs off the GUI thread.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.carriers import accounts as ac
from app.services.carriers.model import Outcome, Reply
from app.services.changes import Change
from app.views.context import AppContext
from app.views.ops import run_task

COLUMNS = ("Carrier", "Name", "Account", "Endpoint", "Services", "Per minute", "Daily quota", "Secret")
ENDPOINTS = ("sandbox", "test", "production")
_COLOURS = {Outcome.OK: "#1b6e2a", Outcome.AUTH_FAILED: "#a31515", Outcome.TRANSIENT: "#9a5b00",
            Outcome.RATE_LIMITED: "#9a5b00"}


class CarriersPanel(QWidget):
    """Accounts table on top, the selected account's form below, Test connection beside Save."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("carriersPanel")
        self.is_admin = ctx.can("settings.edit")
        self.accounts: list[ac.AccountInfo] = []
        self.services_by_carrier: dict[str, list[tuple[str, str]]] = {}
        self.current: uuid.UUID | None = None

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("carrierAccounts")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)

        self.carrier = QComboBox()
        self.carrier.setObjectName("carrierCode")
        self.name = QLineEdit()
        self.name.setObjectName("carrierName")
        self.account_number = QLineEdit()
        self.account_number.setObjectName("carrierAccount")
        self.client_id = QLineEdit()
        self.client_id.setObjectName("carrierClientId")
        self.secret = QLineEdit()
        self.secret.setObjectName("carrierSecret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret2 = QLineEdit()
        self.secret2.setObjectName("carrierSecret2")
        self.secret2.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret2.setPlaceholderText("DHL only: MyDHL API password (rates and labels)")
        self.endpoint = QComboBox()
        self.endpoint.setObjectName("carrierEndpoint")
        self.endpoint.setEditable(True)
        self.endpoint.addItems(ENDPOINTS)
        self.endpoint.setToolTip("sandbox = the built-in carrier sandbox; test = the carrier's own test host; "
                                 "production; or a URL")
        self.services = QListWidget()
        self.services.setObjectName("carrierServices")
        self.services.setMaximumHeight(90)
        self.per_minute = QSpinBox()
        self.per_minute.setObjectName("carrierPerMinute")
        self.per_minute.setRange(1, 100_000)
        self.daily_quota = QSpinBox()
        self.daily_quota.setObjectName("carrierDailyQuota")
        self.daily_quota.setRange(0, 10_000_000)
        self.daily_quota.setSpecialValueText("none")
        self.options = QLineEdit()
        self.options.setObjectName("carrierOptions")
        self.options.setPlaceholderText("USPS: crid=...; mid=...")

        self.new = QPushButton("New account")
        self.save = QPushButton("Save")
        self.save.setObjectName("carrierSave")
        self.delete = QPushButton("Delete")
        self.delete.setObjectName("carrierDelete")
        self.test = QPushButton("Test connection")
        self.test.setObjectName("carrierTest")
        self.status = QLabel("")
        self.status.setObjectName("carrierStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for w in (self.carrier, self.name, self.account_number, self.client_id, self.secret, self.secret2,
                  self.endpoint, self.services, self.per_minute, self.daily_quota, self.options, self.new,
                  self.save, self.delete):
            w.setEnabled(self.is_admin)
        if not self.is_admin:
            self.save.setToolTip("Only an admin may change carrier accounts")

        form = QFormLayout()
        left, right = QFormLayout(), QFormLayout()
        left.addRow("Carrier", self.carrier)
        left.addRow("Name", self.name)
        left.addRow("Account number", self.account_number)
        left.addRow("Client id / API key", self.client_id)
        left.addRow("Client secret", self.secret)
        left.addRow("Second secret", self.secret2)
        right.addRow("Endpoint", self.endpoint)
        right.addRow("Services enabled", self.services)
        right.addRow("Requests a minute", self.per_minute)
        right.addRow("Requests a day", self.daily_quota)
        right.addRow("Options", self.options)
        cols = QHBoxLayout()
        cols.addLayout(left, 1)
        cols.addLayout(right, 1)
        form.addRow(cols)
        buttons = QHBoxLayout()
        for b in (self.new, self.save, self.delete, self.test):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.table.itemSelectionChanged.connect(self._on_select)
        self.carrier.currentIndexChanged.connect(self._on_carrier)
        self.new.clicked.connect(self.clear_form)
        self.save.clicked.connect(self.save_account)
        self.delete.clicked.connect(self.delete_account)
        self.test.clicked.connect(self.test_connection)

    # -- data ----------------------------------------------------------------------------------
    def reload(self, select: uuid.UUID | None = None) -> None:
        settings = self.ctx.settings

        def query(s: Session) -> tuple[list[ac.AccountInfo], list[tuple[str, str, str]], dict[str, Any]]:
            carriers = ac.carriers(s)
            return ac.list_accounts(s, settings), carriers, {c: ac.carrier_services(s, c) for c, _n, _a in carriers}

        def done(result: tuple[list[ac.AccountInfo], list[tuple[str, str, str]], dict[str, Any]]) -> None:
            self.accounts, carriers, self.services_by_carrier = result
            keep = self.carrier.currentData()
            self.carrier.blockSignals(True)
            self.carrier.clear()
            for code, name, api in carriers:
                self.carrier.addItem(f"{code}  {name}", code)
                self.carrier.setItemData(self.carrier.count() - 1, api, Qt.ItemDataRole.UserRole + 1)
            if keep:
                self.carrier.setCurrentIndex(max(0, self.carrier.findData(keep)))
            self.carrier.blockSignals(False)
            self._fill_table()
            target = select or self.current
            row = next((i for i, a in enumerate(self.accounts) if a.id == target), 0 if self.accounts else -1)
            if row >= 0:
                self.table.selectRow(row)
            else:
                self.clear_form()

        self.ctx.runner.submit(query, done, write=False, label="carrier accounts", latest=(id(self), "load"))

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.accounts))
        for r, a in enumerate(self.accounts):
            secret = "stored" if a.has_secret else ("sandbox demo" if a.endpoint == "sandbox" else "missing")
            values = (a.carrier_code, a.name, a.account_number, a.endpoint, ", ".join(a.services) or "all",
                      str(a.requests_per_minute), str(a.daily_quota or "none"), secret)
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))

    def selected(self) -> ac.AccountInfo | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self.accounts[min(rows)] if rows and min(rows) < len(self.accounts) else None

    def _on_select(self) -> None:
        a = self.selected()
        if a is None:
            return
        self.current = a.id
        self.carrier.setCurrentIndex(max(0, self.carrier.findData(a.carrier_code)))
        self.name.setText(a.name)
        self.account_number.setText(a.account_number)
        self.client_id.setText(a.client_id)
        self.secret.clear()
        self.secret2.clear()
        self.secret.setPlaceholderText("(stored; type to replace)" if a.has_secret
                                       else "not stored on this workstation")
        self.endpoint.setCurrentText(a.endpoint)
        self._fill_services(a.carrier_code, a.services)
        self.per_minute.setValue(a.requests_per_minute)
        self.daily_quota.setValue(a.daily_quota)
        self.options.setText("; ".join(f"{k}={v}" for k, v in a.options.items()))

    def _on_carrier(self) -> None:
        code = self.carrier.currentData()
        if code:
            self._fill_services(str(code), ())
            if self.current is None:
                api = str(self.carrier.currentData(Qt.ItemDataRole.UserRole + 1) or "")
                rpm, quota = ac.DEFAULT_LIMITS.get(api, (60, 0))
                self.per_minute.setValue(rpm)
                self.daily_quota.setValue(quota)
                self.endpoint.setCurrentText("sandbox" if api == "sandbox" else "production")

    def _fill_services(self, carrier: str, enabled: tuple[str, ...]) -> None:
        self.services.clear()
        for code, name in self.services_by_carrier.get(carrier, []):
            item = QListWidgetItem(f"{code}  {name}")
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if not enabled or code in enabled else Qt.CheckState.Unchecked)
            self.services.addItem(item)

    def clear_form(self) -> None:
        self.current = None
        self.table.clearSelection()
        for w in (self.name, self.account_number, self.client_id, self.secret, self.secret2, self.options):
            w.clear()
        self.secret.setPlaceholderText("kept with Depot's secrets (keyring), never in the database")
        self._on_carrier()
        self.status.setText("New account: fill in and Save")

    # -- actions -------------------------------------------------------------------------------
    def _form(self) -> dict[str, Any]:
        checked = [str(self.services.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.services.count())
                   if self.services.item(i).checkState() == Qt.CheckState.Checked]
        all_on = len(checked) == self.services.count()
        options = {}
        for part in self.options.text().replace(",", ";").split(";"):
            k, sep, v = part.partition("=")
            if sep and k.strip():
                options[k.strip()] = v.strip()
        return {"carrier_code": str(self.carrier.currentData() or ""), "name": self.name.text(),
                "account_number": self.account_number.text(), "client_id": self.client_id.text(),
                "endpoint": self.endpoint.currentText(), "services": [] if all_on else checked,
                "requests_per_minute": self.per_minute.value(), "daily_quota": self.daily_quota.value(),
                "options": options, "account_id": self.current}

    def save_account(self) -> None:
        fields = self._form()
        secret, secret2 = self.secret.text() or None, self.secret2.text() or None
        actor, settings = self.ctx.actor, self.ctx.settings

        def done(info: ac.AccountInfo) -> None:
            self.secret.clear()
            self.secret2.clear()
            self._say(Reply(Outcome.OK, f"Saved {info.label}" + (" (secret stored with Depot's secrets, not in the database)" if secret else "")))
            self.reload(select=info.id)

        self.ctx.runner.submit(lambda s: ac.save_account(s, actor, settings=settings, secret=secret, secret2=secret2,
                                                         **fields),
                               done, on_error=self._error, kinds={Change.SETTINGS, Change.CARRIER}, label="save carrier account")

    def delete_account(self) -> None:
        a = self.selected()
        if a is None:
            return
        actor, settings = self.ctx.actor, self.ctx.settings

        def done(_r: object) -> None:
            self.current = None
            self._say(Reply(Outcome.OK, f"Deleted {a.label} and its stored secret"))
            self.reload()

        self.ctx.runner.submit(lambda s: ac.delete_account(s, actor, a.id, settings), done, on_error=self._error,
                               kinds={Change.SETTINGS, Change.CARRIER}, label="delete carrier account")

    def test_connection(self) -> None:
        a = self.selected()
        if a is None:
            self.status.setText("Select an account (or save the new one) to test it")
            return
        settings, engine = self.ctx.settings, self.ctx.engine
        self.test.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(f"Testing {a.label} ...")
        run_task(lambda _report: ac.test_connection(a, settings, engine), self._tested, self._test_failed)

    def _tested(self, reply: Reply) -> None:
        self.test.setEnabled(True)
        self._say(reply)

    def _test_failed(self, error: BaseException) -> None:
        self.test.setEnabled(True)
        self._say(Reply(Outcome.TRANSIENT, f"The test could not run: {error}"))

    def _error(self, error: BaseException) -> None:
        self._say(Reply(Outcome.PERMANENT, str(error)))

    def _say(self, reply: Reply) -> None:
        colour = _COLOURS.get(reply.outcome, "#a31515")
        self.status.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.status.setText(reply.message)
