"""Generator steps, one module per domain; bench.generate runs them in order."""
