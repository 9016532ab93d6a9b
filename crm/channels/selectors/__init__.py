"""Reads of the channels app, one module per area; all apply the viewer's scope first."""
