"""Tools for tests and benchmarks only: the dense NumPy reference implementation."""
