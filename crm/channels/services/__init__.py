"""Writes of the channels app, one module per area (HQ pages, portal, API, imports and
jobs all call these)."""
