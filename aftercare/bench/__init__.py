"""Benchmarks: `aftercare bench` (see README.md)."""
