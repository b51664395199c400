"""Golden outputs: byte-level behaviour frozen before a refactor.

``python -m tests.goldens freeze`` runs every case (:mod:`tests.goldens.cases`) and stores
each output file's SHA-256 plus copies of the small files under ``tests/goldens/frozen/``;
``python -m tests.goldens check`` re-runs them and reports every file whose bytes differ
(run it on the machine that froze them: numba's machine code, and so the last bits of a
float, may differ between CPUs). ``tests/test_goldens.py`` compares the shipped-data cases
with a tolerance on any machine, and the public API against ``api.json``.
"""
