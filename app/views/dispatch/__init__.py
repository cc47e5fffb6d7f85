"""The Dispatch screen: waves and picking, packing, shipping and the manifest as tabs (issue 14)."""
