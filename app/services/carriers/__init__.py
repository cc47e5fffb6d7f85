"""Carriers: one adapter per carrier API behind one interface, their parsers, and the sandbox."""
