"""Column names of the published (wide) comparison table, and reading them back.

The wide table (``compare.csv``) packs score, scale and statistic into one column name
(``marked_ssi@100km_ci_low``); this module is the one place that builds and splits such
names, so that the plot layer and the result objects share it without importing each other.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["LONG_COLUMNS", "WIDE_FIELDS", "wide_column", "wide_columns", "wide_suffix"]

#: Columns of :attr:`Comparison.scores`.
LONG_COLUMNS = ("model", "score", "scale", "statistic", "value")

#: Aggregate fields of the wide comparison table and their column suffixes
#: (``<score column>@<scale><suffix>``), in the order of the published layout.
WIDE_FIELDS = (
    ("mean", ""),
    ("ci_low", "_ci_low"),
    ("ci_high", "_ci_high"),
    ("null_mean", "_null"),
    ("excess", "_excess"),
    ("excess_ci_low", "_excess_ci_low"),
    ("excess_ci_high", "_excess_ci_high"),
    ("p_excess", "_p_excess"),
)
_SUFFIX = dict(WIDE_FIELDS)
_FIELD = {suffix: name for name, suffix in WIDE_FIELDS}


def wide_column(score: str, scale: str, statistic: str) -> str:
    """The column of the wide table holding ``statistic`` of ``score`` at ``scale``.

    Examples
    --------
    >>> wide_column("marked_ssi", "100km", "ci_low")
    'marked_ssi@100km_ci_low'
    >>> wide_column("marked_ssi", "100km", "mean")
    'marked_ssi@100km'
    """
    return f"{score}@{scale}{wide_suffix(statistic)}"


def wide_suffix(statistic: str) -> str:
    """The suffix of ``statistic`` in a wide column name (``""`` for the mean)."""
    return _SUFFIX.get(statistic, f"_{statistic}")


def _split(column: str) -> tuple[str, str, str]:
    """``(score, scale, statistic)`` of a wide column (scale names hold no ``_``)."""
    score, rest = column.split("@", 1)
    scale, _, tail = rest.partition("_")
    suffix = f"_{tail}" if tail else ""
    return score, scale, _FIELD.get(suffix, tail)


def wide_columns(table: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """The score columns of a wide comparison table, read back into their parts.

    Parameters
    ----------
    table : DataFrame
        A table in the layout of :meth:`Comparison.wide` (``compare.csv``).

    Returns
    -------
    list of (column, score, scale, statistic)
        One entry per ``<score>@<scale><suffix>`` column, in column order.
    """
    return [(c, *_split(c)) for c in table.columns if isinstance(c, str) and "@" in c]
