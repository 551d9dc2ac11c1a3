"""Benchmarks of dbsql: ports of the Go benchmarks of database/sql.

Each module ``benchmarks/bench_*.py`` defines functions ``benchmark_<name>(n)``
that do ``n`` iterations of the work of Go's ``Benchmark<Name>``. Run them all
with ``python -m benchmarks`` (``make bench``), which times each one with an
adaptive ``n`` and, when a Go toolchain is available, runs Go's own benchmarks
of the same names beside them. They are kept out of pytest's collection (its
testpaths is ``tests/``).
"""
