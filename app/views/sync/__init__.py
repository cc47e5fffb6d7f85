"""The Sync screen and the controller that runs replication in the background."""
