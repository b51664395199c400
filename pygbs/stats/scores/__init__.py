"""One module per statistic family: its options class and its scores.

Each module declares ``ORDER`` (its place in the table, the ``--score`` choices and the
command line's options), ``OPTIONS`` (its options class, or None) and ``SCORES`` (its
:class:`pygbs.stats.definition.ScoreDef` entries, in table order).
:mod:`pygbs.stats.registry` finds them here: a new statistic is a new module (plus its
kernel and tests); see docs/method.md, "Adding a score".

The modules import nothing heavy at the top: NumPy and the kernels are imported inside
the computing functions, because the command line reads the definitions to build its
options and must stay light.
"""
