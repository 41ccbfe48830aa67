"""Offline evaluation: baselines and benchmarks over a data directory."""
