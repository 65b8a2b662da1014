"""Benchmarks and the realistic data generator (`python -m bench.generate`)."""
