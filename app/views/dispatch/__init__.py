"""The Dispatch screen and its tabs (issue 14)."""
