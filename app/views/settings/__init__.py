"""Settings screen and its pages (head-office configuration, approval rules)."""
