"""S10: what sales adds to the places a rep works from (customer 360° tabs, home page)."""


def ready() -> None:
    """Called from SalesConfig.ready(); registers tabs and home panels."""
