"""The receivables screen: ageing, open items, payments by hand and from a bank file, statements."""
