"""receiving models (filled in by the receiving issue)."""
