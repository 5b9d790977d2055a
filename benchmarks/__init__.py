"""Reproducible performance measurements; see benchmarks/README.md. Run: python -m benchmarks.run"""
