"""The clerk's print centre: every printable document in one queue, preview, print, save, e-mail, bulk."""
