"""Master data: the item list (item x warehouse rows with on hand) and the item detail pane."""
