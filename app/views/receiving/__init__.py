"""The Receiving screen: scan-to-receive, putaway by bin scan, quality hold decisions."""
