"""The ``Shop``: a bundle of tables with the planted truth and the configuration that made them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Shop:
    """A bundle of the shop's tables plus ``truth``, the values the simulator planted.

    Parameters
    ----------
    tables : dict of str to pd.DataFrame
        The tables, by name (``crmlab.data.schema.TABLE_NAMES``); each is also an attribute
        (``shop.orders``).
    truth : dict
        What the simulator planted (empty for real data).
    config : dict
        The resolved configuration (``start``, ``end``, seed and knobs).
    report : pd.DataFrame or None
        The cleaning report of a real-data reader.
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    report: pd.DataFrame | None = None  # cleaning report of real-data readers

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(
            f"Shop has no table or attribute {name!r}; tables: {sorted(tables)}"
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.tables))

    @property
    def start(self) -> pd.Timestamp:
        """First day of data."""
        return pd.Timestamp(self.config["start"])

    @property
    def end(self) -> pd.Timestamp:
        """Last day of data (inclusive); the data end at ``end`` 23:59:59."""
        return pd.Timestamp(self.config["end"])

    @property
    def end_ts(self) -> pd.Timestamp:
        """The first instant after the data (``end`` + 1 day)."""
        return self.end + pd.Timedelta(days=1)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"Shop({self.config.get('start')}..{self.config.get('end')}: {sizes})"
