"""The one family of domain errors. The GUI and the CLI show ``str(error)`` as it is.

A message names the field (or the thing) and the rule, so a user can fix the input.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user may see; nothing was written when one is raised."""


class ValidationError(DomainError):
    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class NotFound(DomainError):
    def __init__(self, what: str, key: object) -> None:
        self.what = what
        self.key = key
        super().__init__(f"unknown {what} {key!s}")


class PermissionDenied(DomainError):
    pass


class Conflict(DomainError):
    """The record changed state in a way that forbids the action (posted, cancelled, taken)."""


class DatabaseProblem(DomainError):
    """The database file is missing, locked, corrupt, or from another schema version."""


class AuthError(DomainError):
    pass
