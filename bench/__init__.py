"""followup's benchmarks: run them all with ``python bench/run.py`` (see bench/README.md).

Nothing in the package imports this; the benchmarks are run on demand, never as timed tests.
"""
