"""buying models (filled in by the buying issue)."""
