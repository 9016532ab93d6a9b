"""X6 benchmark: a data generator at a chosen scale (`make bench-data SCALE=…`) and a load
benchmark against a production server (`make bench`). See docs/PERFORMANCE.md."""
