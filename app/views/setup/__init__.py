"""The first-run setup assistant (a new file with no users)."""
