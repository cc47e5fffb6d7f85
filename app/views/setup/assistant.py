"""The first-run setup assistant: a new file (no users yet) opens here instead of an empty window.

Company -> head office and branches -> warehouses -> bins -> first admin -> import your data.
Each page is the same editor Settings shows (``app.views.settings``); every write is an op off
the GUI thread, made without a user while the file has none (``services.org.setup``), and the
import page acts as the admin just created. Leaving half way keeps what was saved: the next
start opens the assistant again until the file has its admin.

``SetupAssistant.ask(engine)`` returns the new admin's user name (the sign-in dialog comes next),
or None when the user closed it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.services.auth import Actor, login
from app.services.db import session_scope
from app.services.org.setup import in_setup
from app.services.users import MIN_PASSWORD, add_user
from app.views.ops import OpRunner
from app.views.settings.bins_page import BinsEditor
from app.views.settings.company_page import CompanyForm
from app.views.settings.imports_page import ImportPanel
from app.views.settings.org_env import OrgEnv, show
from app.views.settings.sites_page import BranchesEditor, WarehousesEditor
from app.views.signals import AppSignals
from app.views.widgets.layout_memory import fit_to_screen


def needs_setup(engine: Engine) -> bool:
    """Does this file still need its first admin (and so the assistant)?"""
    with session_scope(engine, write=False) as s:
        return in_setup(s)


class _Page(QWizardPage):
    def __init__(self, title: str, subtitle: str, body: QWidget) -> None:
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.body = body
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(body)


class CompanyPage(_Page):
    """Saved when Next is pressed (an op); the assistant moves on once it is stored."""

    def __init__(self, env: OrgEnv) -> None:
        self.form = CompanyForm(env, with_head_office=True)
        self.form.save_button.setVisible(False)
        super().__init__("Step 1 of 6: your company", "What your documents print at the top. The head office is the branch that "
                                         "owns the company's master data.", self.form)
        self._stored: dict[str, Any] | None = None
        self.form.saved.connect(self._saved)

    def validatePage(self) -> bool:  # noqa: N802 (Qt API)
        if self._stored is not None and self._stored == self.form.values() and self.form.logo is None:
            return True
        self._pending = self.form.values()
        self.form.save()
        return False

    def _saved(self, _text: str) -> None:
        self._stored = self._pending
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()


class AdminPage(QWizardPage):
    """The first user: an admin, who signs in to set up the rest."""

    def __init__(self, env: OrgEnv) -> None:
        super().__init__()
        self.env = env
        self.setTitle("Step 5 of 6: first admin")
        self.setSubTitle("The person who signs in first. An admin adds the other users (Settings > Users).")
        self.username = QLineEdit()
        self.username.setObjectName("adminName")
        self.full_name = QLineEdit()
        self.full_name.setObjectName("adminFullName")
        self.email = QLineEdit()
        self.password = QLineEdit()
        self.password.setObjectName("adminPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"at least {MIN_PASSWORD} characters")
        self.repeat = QLineEdit()
        self.repeat.setObjectName("adminRepeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.status = QLabel("")
        self.status.setObjectName("adminStatus")
        self.status.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("&User name", self.username)
        form.addRow("Full name", self.full_name)
        form.addRow("E-mail", self.email)
        form.addRow("&Password", self.password)
        form.addRow("Password again", self.repeat)
        form.addRow(self.status)
        self.actor: Actor | None = None
        for w in (self.username, self.password, self.repeat):
            w.textChanged.connect(lambda _t: self.completeChanged.emit())

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        return self.actor is not None or bool(self.username.text().strip() and self.password.text())

    def validatePage(self) -> bool:  # noqa: N802 (Qt API)
        if self.actor is not None:
            return True
        if self.password.text() != self.repeat.text():
            show(self.status, False, "password: the two entries differ")
            return False
        name, password = self.username.text(), self.password.text()
        full, email = self.full_name.text(), self.email.text()

        def op(s: Session) -> Actor:
            add_user(s, None, name, password, ["admin"], full_name=full, email=email)
            return login(s, name, password)

        def done(actor: Actor) -> None:
            self.actor = actor
            self.env.actor = actor  # the import page acts as this admin
            for w in (self.username, self.password, self.repeat):
                w.setEnabled(False)
            show(self.status, True, f"{actor.username} added: signs in with that password")
            wizard = self.wizard()
            if wizard is not None and wizard.currentPage() is self:
                wizard.next()

        self.env.write(op, done, self.status, "first admin")
        return False


class SetupAssistant(QWizard):
    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setupAssistant")
        self.setWindowTitle("Depot - set up a new company")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self._first_size()
        self.signals = AppSignals()
        self.runner = OpRunner(engine, self.signals)
        self.env = OrgEnv(self.runner, None)
        self.company = CompanyPage(self.env)
        self.branches = BranchesEditor(self.env)
        self.warehouses = WarehousesEditor(self.env)
        self.bins = BinsEditor(self.env)
        self.admin = AdminPage(self.env)
        self.imports = ImportPanel(self.env)
        self.addPage(self.company)
        self.addPage(_Page("Step 2 of 6: head office and branches", "Add your branches, and say which one this computer works "
                           "for (the head office, for a file set up at head office).", self.branches))
        self.addPage(_Page("Step 3 of 6: warehouses", "Each branch's warehouses. A new warehouse has its dock, a QA cage and "
                           "the virtual locations that balance the stock ledger.", self.warehouses))
        self.addPage(_Page("Step 4 of 6: bins", "Zones and bins by pattern (aisles x bays x levels), numbered in the order a "
                           "picker walks them. You can also import them on the last page.", self.bins))
        self.addPage(self.admin)
        self.addPage(_Page("Step 6 of 6: import your data", "Each file of your old system: download its sample to see the "
                           "columns, choose your file, check its rows, import. Finish when you are done; you can "
                           "import more later in Settings > Import.", self.imports))
        self.currentIdChanged.connect(self._page_shown)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Finish and sign in")

    def _first_size(self) -> None:
        """1100 x 720 within the screen's free area (Cancel and Finish were off a 1,024-px screen)."""
        fit_to_screen(self, 1100, 720)

    def _page_shown(self, page_id: int) -> None:
        page = self.page(page_id)
        body = getattr(page, "body", None)
        for editor in (self.branches, self.warehouses, self.bins):
            if body is editor:
                (editor.load_warehouses if isinstance(editor, BinsEditor) else editor.load)()

    def admin_name(self) -> str | None:
        return self.admin.actor.username if self.admin.actor is not None else None

    def done(self, result: int) -> None:  # noqa: D401 - Qt override: stop the workers with the dialog
        self.runner.wait_idle(30_000)
        self.runner.shutdown()
        super().done(result)

    @classmethod
    def ask(cls, engine: Engine, parent: QWidget | None = None) -> str | None:
        """Run the assistant modally; the new admin's name, or None (tests patch this)."""
        dlg = cls(engine, parent)
        dlg.setWindowModality(Qt.WindowModality.ApplicationModal)
        dlg.exec()
        return dlg.admin_name()
