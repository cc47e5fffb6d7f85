"""PySide6 screens and Qt item models. No SQL and no business rules: call app.services."""
