"""Settings > Company: the company profile every document prints (name, address, contact, tax id,
base currency, time zone, logo). ``CompanyForm`` is also the setup assistant's first page.

Rules are ``services.org.company``; the form only shows what it says.
Signals (CompanyForm): saved(str) after the profile was saved (the sentence shown).
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.org import company as co
from app.services.org import sites
from app.views.context import AppContext
from app.views.settings.org_env import OrgEnv, lock, show


def timezones() -> list[str]:
    """IANA zone names, the usual ones first (an editable combo accepts any)."""
    try:
        names = sorted(zoneinfo.available_timezones())
    except Exception:  # noqa: BLE001 - a system without a zone database still gets the common ones
        names = []
    common = ["UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
              "America/Los_Angeles", "Europe/London", "Europe/Paris", "Europe/Berlin"]
    return common + [n for n in names if n not in common]


class CompanyForm(QWidget):
    """The profile form. With ``with_head_office`` (a new file) it also names the head office,
    which must exist before anything else (it owns the company's master data)."""

    saved = Signal(str)

    def __init__(self, env: OrgEnv, *, with_head_office: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.setObjectName("companyForm")
        self.logo: bytes | None = None
        self.remove_logo = False
        self.name = QLineEdit()
        self.name.setObjectName("companyName")
        self.name.setPlaceholderText("as it prints on purchase orders and invoices")
        self.address = QPlainTextEdit()
        self.address.setObjectName("companyAddress")
        self.address.setFixedHeight(64)
        self.phone = QLineEdit()
        self.email = QLineEdit()
        self.website = QLineEdit()
        self.tax_id = QLineEdit()
        self.tax_id.setObjectName("companyTaxId")
        self.currency = QLineEdit("USD")
        self.currency.setObjectName("companyCurrency")
        self.currency.setMaximumWidth(60)
        self.timezone = QComboBox()
        self.timezone.setObjectName("companyTimezone")
        self.timezone.setEditable(True)
        self.timezone.addItems(timezones())
        self.logo_preview = QLabel("no logo")
        self.logo_preview.setObjectName("companyLogo")
        self.logo_preview.setFixedSize(180, 60)
        self.logo_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.logo_preview.setStyleSheet("border: 1px solid #c8d3df;")
        self.choose_logo = QPushButton("Choose logo…")
        self.clear_logo = QPushButton("Remove")
        self.ho_code = QLineEdit("HQ")
        self.ho_code.setObjectName("headOfficeCode")
        self.ho_code.setMaximumWidth(80)
        self.ho_name = QLineEdit("Head office")
        self.ho_name.setObjectName("headOfficeName")
        self.save_button = QPushButton("Save company")
        self.save_button.setObjectName("companySave")
        self.status = QLabel("")
        self.status.setObjectName("companyStatus")
        self.status.setWordWrap(True)
        self.with_head_office = with_head_office

        logo_row = QHBoxLayout()
        logo_row.addWidget(self.logo_preview)
        logo_row.addWidget(self.choose_logo)
        logo_row.addWidget(self.clear_logo)
        logo_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Company &name", self.name)
        form.addRow("&Address", self.address)
        form.addRow("Phone", self.phone)
        form.addRow("E-mail", self.email)
        form.addRow("Website", self.website)
        form.addRow("Tax id", self.tax_id)
        form.addRow("Base currency", self.currency)
        form.addRow("Time zone", self.timezone)
        form.addRow("Logo (PNG or JPEG)", logo_row)
        self.ho_row = QWidget()
        ho = QHBoxLayout(self.ho_row)
        ho.setContentsMargins(0, 0, 0, 0)
        ho.addWidget(self.ho_code)
        ho.addWidget(self.ho_name, 1)
        if with_head_office:
            form.addRow("Head office (code, name)", self.ho_row)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.status, 1)
        lay.addLayout(buttons)
        lay.addStretch(1)
        lock(env, [self.name, self.address, self.phone, self.email, self.website, self.tax_id, self.currency,
                   self.timezone, self.choose_logo, self.clear_logo, self.save_button])
        self._connect_signals()
        self.load()

    def _connect_signals(self) -> None:
        self.save_button.clicked.connect(self.save)
        self.choose_logo.clicked.connect(self._choose_logo)
        self.clear_logo.clicked.connect(self._clear_logo)

    def load(self) -> None:
        def query(s: Session) -> tuple[co.CompanyProfile | None, str]:
            return co.get_company(s), next((b.code for b in sites.list_branches(s) if b.head_office), "")

        self.env.read(query, self._loaded, (id(self), "company"))

    def _loaded(self, result: tuple[co.CompanyProfile | None, str]) -> None:
        c, ho = result
        self.head_office = ho
        self.ho_row.setVisible(self.with_head_office and not ho)
        if c is None:
            return
        self.name.setText(c.name)
        self.address.setPlainText(c.address)
        self.phone.setText(c.phone)
        self.email.setText(c.email)
        self.website.setText(c.website)
        self.tax_id.setText(c.tax_id)
        self.currency.setText(c.base_currency)
        self.timezone.setCurrentText(c.timezone)
        self._preview(c.logo)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.text(), "address": self.address.toPlainText(), "phone": self.phone.text(),
                "email": self.email.text(), "website": self.website.text(), "tax_id": self.tax_id.text(),
                "base_currency": self.currency.text(), "timezone": self.timezone.currentText()}

    def save(self) -> None:
        """Save the profile (creating the head office first on a new file)."""
        values, logo, remove = self.values(), self.logo, self.remove_logo
        actor = self.env.actor
        ho_code, ho_name = self.ho_code.text(), self.ho_name.text()
        need_ho = self.with_head_office and not getattr(self, "head_office", "")

        def op(s: Session) -> co.CompanyProfile:
            if need_ho and not any(b.head_office for b in sites.list_branches(s)):
                sites.add_branch(s, actor, ho_code, ho_name or "Head office", head_office=True,
                                 timezone=values["timezone"], address=values["address"])
            return co.set_company(s, actor, logo=logo, remove_logo=remove, **values)

        def done(c: co.CompanyProfile) -> None:
            self.logo, self.remove_logo = None, False
            self.head_office = self.head_office or ho_code.strip().upper()
            self.ho_row.setVisible(False)
            text = f"saved: {c.name}"
            show(self.status, True, text)
            self.saved.emit(text)
            self.env.notify("company")

        self.env.write(op, done, self.status, "save company")

    def ask_logo_file(self) -> str:
        """The logo file the user picks ('' = cancelled; tests patch this)."""
        path, _ = QFileDialog.getOpenFileName(self, "Company logo", "", "Images (*.png *.jpg *.jpeg)")
        return path

    def _choose_logo(self) -> None:
        path = self.ask_logo_file()
        if not path:
            return
        try:
            data = Path(path).read_bytes()
            co.check_logo(data)
        except OSError as e:
            show(self.status, False, f"logo: cannot read {path}: {e.strerror or e}")
            return
        except Exception as e:  # noqa: BLE001 - the rule's own message (not an image, too big)
            show(self.status, False, str(e))
            return
        self.logo, self.remove_logo = data, False
        self._preview(data)
        show(self.status, True, "logo chosen")

    def _clear_logo(self) -> None:
        self.logo, self.remove_logo = None, True
        self._preview(b"")
        show(self.status, True, "logo removed")

    def _preview(self, data: bytes) -> None:
        pix = QPixmap()
        if data and pix.loadFromData(data):
            self.logo_preview.setPixmap(pix.scaled(self.logo_preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation))
        else:
            self.logo_preview.clear()
            self.logo_preview.setText("no logo")


def settings_env(ctx: AppContext) -> OrgEnv:
    """The editors' environment in Settings: the signed-in user, and whether they may edit here."""
    return OrgEnv(ctx.runner, ctx.actor, editable=ctx.can("settings.edit"),
                  why_not="" if ctx.can("settings.edit") else "Only an admin changes the organisation")


class CompanyPanel(QWidget):
    """Settings > Company."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = CompanyForm(settings_env(ctx))
        QVBoxLayout(self).addWidget(self.form)
