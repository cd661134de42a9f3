"""The performance suite: `python -m benchmarks [name ...]` writes benchmarks/RESULTS.md.

Each `bench_<name>.py` module offers `run() -> str`, a markdown section with a table.
"""
