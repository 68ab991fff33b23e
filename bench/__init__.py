"""Benchmarks that print figures (not tests): ``python -m bench.bench_ack`` and friends."""
