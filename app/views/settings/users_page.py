"""Settings > Users: who may sign in, with which roles, at which branch; and what each role may do.

Select a user to fill the form; Add user, Save roles, Disable/Enable and Set password act on it.
The rules (first user an admin, the last admin stays, passwords of 8 characters or more) are
``services.users``; the page shows their sentences. Only an admin changes users; everybody sees
the permission table.

Signals: changed(str) after a change was saved (the sentence shown).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import users as us
from app.services.org import sites
from app.services.users import ROLES
from app.views.context import AppContext
from app.views.settings.company_page import settings_env
from app.views.settings.org_env import OrgEnv, lock, show
from app.views.settings.sites_page import _fill, _table


def permission_table_widget() -> QTableWidget:
    """Actions down, roles across, a tick where the role may do it (the table the services enforce)."""
    rows = us.permission_table()
    t = QTableWidget(len(rows), len(ROLES))
    t.setObjectName("permissionTable")
    t.setHorizontalHeaderLabels(list(ROLES))
    t.setVerticalHeaderLabels([p.label for p in rows])
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for r, p in enumerate(rows):
        for c, role in enumerate(ROLES):
            item = QTableWidgetItem("✓" if role in p.roles else "")
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip(f"{role}: {us.ROLE_NOTES[role]}")
            t.setItem(r, c, item)
    t.resizeColumnsToContents()
    return t


class UsersEditor(QWidget):
    changed = Signal(str)

    def __init__(self, env: OrgEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.setObjectName("usersEditor")
        self.users: list[us.UserInfo] = []
        self.table = _table("userTable", ["User", "Full name", "Branch", "Roles", "Status", "E-mail"])
        self.username = QLineEdit()
        self.username.setObjectName("userName")
        self.full_name = QLineEdit()
        self.full_name.setObjectName("userFullName")
        self.email = QLineEdit()
        self.branch = QComboBox()
        self.branch.setObjectName("userBranch")
        self.branch.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.role_boxes = {r: QCheckBox(r) for r in ROLES}
        for r, box in self.role_boxes.items():
            box.setObjectName(f"role_{r}")
            box.setToolTip(us.ROLE_NOTES[r])
        self.password = QLineEdit()
        self.password.setObjectName("userPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"at least {us.MIN_PASSWORD} characters")
        self.repeat = QLineEdit()
        self.repeat.setObjectName("userPasswordRepeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_button = QPushButton("Add user")
        self.add_button.setObjectName("userAdd")
        self.roles_button = QPushButton("Save roles")
        self.roles_button.setObjectName("userRoles")
        self.active_button = QPushButton("Disable")
        self.active_button.setObjectName("userActive")
        self.password_button = QPushButton("Set password")
        self.password_button.setObjectName("userSetPassword")
        self.status = QLabel("")
        self.status.setObjectName("userStatus")
        self.status.setWordWrap(True)

        roles = QGridLayout()
        for n, box in enumerate(self.role_boxes.values()):
            roles.addWidget(box, n // 4, n % 4)
        form = QFormLayout()
        form.addRow("&User name", self.username)
        form.addRow("Full name", self.full_name)
        form.addRow("E-mail", self.email)
        form.addRow("Branch", self.branch)
        form.addRow("Roles", roles)
        pw = QHBoxLayout()
        pw.addWidget(self.password)
        pw.addWidget(self.repeat)
        form.addRow("Password (twice)", pw)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.roles_button, self.active_button, self.password_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 1)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        lock(env, [self.username, self.full_name, self.email, self.branch, *self.role_boxes.values(), self.password,
                   self.repeat, self.add_button, self.roles_button, self.active_button, self.password_button])
        self._connect_signals()
        self.load()

    def _connect_signals(self) -> None:
        self.table.itemSelectionChanged.connect(self._on_select)
        self.add_button.clicked.connect(self.add)
        self.roles_button.clicked.connect(self.save_roles)
        self.active_button.clicked.connect(self.toggle_active)
        self.password_button.clicked.connect(self.set_password)

    def load(self) -> None:
        def query(s: Session) -> tuple[list[us.UserInfo], list[sites.BranchInfo]]:
            return us.list_users(s), sites.list_branches(s)

        self.env.read(query, self._loaded, (id(self), "users"))

    def _loaded(self, result: tuple[list[us.UserInfo], list[sites.BranchInfo]]) -> None:
        self.users, branches = result
        _fill(self.table, [(u.username, u.full_name, u.branch, ", ".join(u.roles), "active" if u.active else "disabled",
                            u.email) for u in self.users])
        current = self.branch.currentData()
        self.branch.clear()
        for b in branches:
            self.branch.addItem(f"{b.code}  {b.name}", b.code)
        self.branch.setCurrentIndex(max(0, self.branch.findData(current)))

    def selected(self) -> us.UserInfo | None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return self.users[rows[0]] if rows and rows[0] < len(self.users) else None

    def _on_select(self) -> None:
        u = self.selected()
        if u is None:
            return
        self.username.setText(u.username)
        self.full_name.setText(u.full_name)
        self.email.setText(u.email)
        self.branch.setCurrentIndex(max(0, self.branch.findData(u.branch)))
        for r, box in self.role_boxes.items():
            box.setChecked(r in u.roles)
        self.active_button.setText("Disable" if u.active else "Enable")

    def roles(self) -> list[str]:
        return [r for r, box in self.role_boxes.items() if box.isChecked()]

    def _password(self) -> str | None:
        if self.password.text() != self.repeat.text():
            show(self.status, False, "password: the two entries differ")
            return None
        return self.password.text()

    def _done(self, text: str) -> None:
        self.password.clear()
        self.repeat.clear()
        show(self.status, True, text)
        self.load()
        self.changed.emit(text)
        self.env.notify("user")

    def add(self) -> None:
        password = self._password()
        if password is None:
            return
        name, roles, branch = self.username.text(), self.roles(), str(self.branch.currentData() or "") or None
        full, email, actor = self.full_name.text(), self.email.text(), self.env.actor
        self.env.write(lambda s: us.add_user(s, actor, name, password, roles, branch=branch, full_name=full,
                                             email=email),
                       lambda u: self._done(f"user {u.username} added ({', '.join(u.roles)})"), self.status,
                       "add user")

    def _acting(self) -> bool:
        if self.env.actor is None:
            show(self.status, False, "sign in as an admin to change users")
            return False
        return True

    def save_roles(self) -> None:
        u, roles, actor = self.selected(), self.roles(), self.env.actor
        if u is None or not self._acting():
            return
        assert actor is not None
        self.env.write(lambda s: us.set_roles(s, actor, u.username, roles),
                       lambda r: self._done(f"{r.username}: {', '.join(r.roles)}"), self.status, "user roles")

    def toggle_active(self) -> None:
        u, actor = self.selected(), self.env.actor
        if u is None or not self._acting():
            return
        assert actor is not None
        self.env.write(lambda s: us.set_active(s, actor, u.username, not u.active),
                       lambda r: self._done(f"{r.username} {'enabled' if r.active else 'disabled'}"), self.status,
                       "user active")

    def set_password(self) -> None:
        u, password, actor = self.selected(), self._password(), self.env.actor
        if u is None or password is None or not self._acting():
            return
        assert actor is not None
        self.env.write(lambda s: us.reset_password(s, actor, u.username, password),
                       lambda r: self._done(f"password of {r.username} changed"), self.status, "user password")


class UsersPanel(QWidget):
    """Settings > Users: the users (admins change them) and the permission table of every role."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = UsersEditor(settings_env(ctx))
        perms = QGroupBox("What each role may do (admin: everything)")
        pl = QVBoxLayout(perms)
        self.permissions = permission_table_widget()
        pl.addWidget(self.permissions)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.editor)
        split.addWidget(perms)
        QVBoxLayout(self).addWidget(split)
