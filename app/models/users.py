"""Users and their roles. Passwords are stored only as scrypt hashes."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, MasterData

ROLES = ("buyer", "approver", "receiver", "warehouse", "dispatcher", "clerk", "manager", "admin")


class User(MasterData, Base):
    __tablename__ = "app_user"
    __branch_editable__ = frozenset({"password_hash", "full_name"})

    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branch.id"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UserRole(MasterData, Base):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
