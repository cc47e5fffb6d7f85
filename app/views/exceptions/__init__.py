"""The Exceptions nav entry: the generic exception inbox."""
