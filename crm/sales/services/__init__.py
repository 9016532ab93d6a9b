"""Sales writes, one module per area (S1–S8)."""
