"""reportlab renderers. Input is plain data (dataclasses, dicts); output is PDF bytes.

Nothing here touches the database or Qt: services gather the data and call a renderer.
"""
