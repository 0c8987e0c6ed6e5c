"""A table's typed rows read column by column, for the checks that go down a column at a time.

Each column is read once (``map`` over the row dicts, no Python-level loop) and kept, as several
checks look at the same fields (the action type, the metric, the quantities).
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

from standards.aef.tables import Row


class Columns:
    """The columns of one table's typed rows (an empty row stands for one that failed)."""

    __slots__ = ("_cache", "rows")

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self._cache: dict[str, Any] = {}

    def __getitem__(self, cn: str) -> Any:
        """One field's values down the table (``None`` where a row has no value)."""
        column = self._cache.get(cn)
        if column is None:
            column = self._cache[cn] = list(map(dict.get, self.rows, repeat(cn)))
        return column

    def __len__(self) -> int:
        return len(self.rows)
