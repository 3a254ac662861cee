"""The CRM store: the shop's tables in a real embedded SQL database (SQLite).

A CRM system is, underneath, a relational database: one row per customer, every order,
ticket and campaign contact pointing back to it by a foreign key.  :class:`CRMStore`
builds that database from the table contract in :mod:`crmlab.data.schema` (so the two
never drift apart) and moves a :class:`~crmlab.data.Shop` in and out of it unchanged.

* ``CRMStore(path)`` creates (or opens) the database: one ``STRICT`` table per contract
  table with its ``PRIMARY KEY``, ``NOT NULL``, ``CHECK`` (allowed labels, minimum and
  maximum values, parseable timestamps) and ``FOREIGN KEY`` constraints, enforced with
  ``PRAGMA foreign_keys = ON``, plus an index on every foreign key and every timestamp.
* :meth:`CRMStore.load` imports every table of a shop in **one transaction**: either all
  rows arrive or, on any failure, the database is rolled back to exactly what it was.
* :meth:`CRMStore.table`, :meth:`CRMStore.customer`, :meth:`CRMStore.orders_of`,
  :meth:`CRMStore.rows_of` and :meth:`CRMStore.query` return DataFrames with the
  contract's dtypes restored (datetimes, categoricals in their original category order,
  nullable integers, ``str``).  Every value reaches SQL as a bound parameter, never by
  string formatting, so a value such as ``"1 OR 1=1"`` or ``"O'Brien"`` is data, not SQL.

How pandas types are stored (SQLite has INTEGER, REAL and TEXT):

=========  ==============================================  ===============================
kind       SQLite column                                    back in pandas
=========  ==============================================  ===============================
int, Int   ``INTEGER``                                      ``int64`` / ``Int64``
float      ``REAL`` (IEEE double, bit-exact)                ``float64``
bool       ``INTEGER`` with ``CHECK (x IN (0, 1))``          ``bool``
datetime   ``TEXT`` ``'YYYY-MM-DD HH:MM:SS[.fffffffff]'``    ``datetime64[ns]``
category   ``TEXT`` (+ ``CHECK (x IN (...))`` if fixed)      ``category`` (original order)
str        ``TEXT``                                         ``str``
=========  ==============================================  ===============================

Timestamps are ISO-8601 text in local shop time, the form SQLite's own date functions
read (``date(order_ts)``, ``strftime('%Y-%m', order_ts)``, ``julianday(b) - julianday(a)``).
Category lists (including unused categories, e.g. a tier nobody holds yet) are kept in the
bookkeeping table ``crmlab_categories``; the shop's configuration in ``crmlab_meta``.

Note for SQL writers: ``campaign_contacts."group"`` is an SQL keyword; quote it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .schema import TABLE_NAMES, TABLES, Column, Table
from .sqltypes import categories_of, check_id, datetime_text, plain, restore, to_sql_values

#: Bumped whenever the generated DDL changes; stored in ``crmlab_meta``.
#: 2: REAL columns refuse infinities, timestamps lie within :data:`STORED_DATES`.
SCHEMA_VERSION = "2"

#: The timestamps a store accepts (ISO text, inclusive lower, exclusive upper bound). The DDL
#: is written once, when the file is created, so it cannot use today's date as the functions'
#: contract does (:func:`crmlab.data.schema.latest_plausible_date`); it uses a fixed range
#: that still refuses the usual typos (2099 for 2025, 9999-12-31 placeholders, epoch zero).
STORED_DATES = ("1970-01-02", "2075-01-01")

#: Seconds a statement waits for another connection's lock before the clear error.
LOCK_TIMEOUT = 5.0

#: Contact fields replaced by keyed tokens when :meth:`CRMStore.load` is given a ``salt``.
CONTACT_FIELDS: dict[str, tuple[str, ...]] = {"customers": ("email",)}

_SQL_TYPE = {
    "int": "INTEGER",
    "Int": "INTEGER",
    "float": "REAL",
    "bool": "INTEGER",
    "datetime": "TEXT",
    "category": "TEXT",
    "str": "TEXT",
}

_META_DDL = (
    "CREATE TABLE IF NOT EXISTS crmlab_meta (\n"
    "  key TEXT NOT NULL PRIMARY KEY,\n"
    "  value TEXT NOT NULL\n"
    ") STRICT",
    "CREATE TABLE IF NOT EXISTS crmlab_categories (\n"
    "  table_name TEXT NOT NULL,\n"
    "  column_name TEXT NOT NULL,\n"
    "  position INTEGER NOT NULL CHECK (position >= 0),\n"
    "  value TEXT NOT NULL,\n"
    "  PRIMARY KEY (table_name, column_name, position)\n"
    ") STRICT",
)

# Statements that query() refuses: it is for reading. (sqlite3 authorizer action codes.)
_WRITE_ACTIONS = {
    getattr(sqlite3, name)
    for name in (
        "SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_DROP_TABLE", "SQLITE_DROP_INDEX",
        "SQLITE_DROP_VIEW", "SQLITE_DROP_TRIGGER", "SQLITE_CREATE_TABLE", "SQLITE_CREATE_INDEX",
        "SQLITE_CREATE_VIEW", "SQLITE_CREATE_TRIGGER", "SQLITE_ALTER_TABLE", "SQLITE_ATTACH",
        "SQLITE_DETACH", "SQLITE_PRAGMA", "SQLITE_TRANSACTION", "SQLITE_SAVEPOINT",
        "SQLITE_CREATE_TEMP_TABLE", "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_VIEW",
        "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_DROP_TEMP_TABLE", "SQLITE_DROP_TEMP_INDEX",
        "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_REINDEX", "SQLITE_ANALYZE",
        "SQLITE_CREATE_VTABLE", "SQLITE_DROP_VTABLE",
    )
    if hasattr(sqlite3, name)
}


# --------------------------------------------------------------------------- DDL


def quote(identifier: str) -> str:
    """Quote an SQL identifier (table or column name) the SQLite way: ``"name"``."""
    return '"' + str(identifier).replace('"', '""') + '"'


def _literal(value: str) -> str:
    """An SQL string literal for the DDL's CHECK lists (schema labels, never user data)."""
    return "'" + str(value).replace("'", "''") + "'"


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _key_columns(table: Table) -> list[str]:
    if table.key is None:
        return []
    return [table.key] if isinstance(table.key, str) else list(table.key)


def _column_ddl(col: Column) -> str:
    parts = [quote(col.name), _SQL_TYPE[col.kind]]
    if not col.nullable:
        parts.append("NOT NULL")
    name = quote(col.name)
    checks: list[str] = []
    if col.kind == "bool":
        checks.append(f"{name} IN (0, 1)")
    if col.kind == "datetime":
        checks.append(f"({name} IS NULL OR julianday({name}) IS NOT NULL)")
        checks.append(f"({name} IS NULL OR ({name} >= {_literal(STORED_DATES[0])} AND "
                      f"{name} < {_literal(STORED_DATES[1])}))")
    if col.kind == "float":
        checks.append(f"({name} IS NULL OR abs({name}) <= 1.7976931348623157e308)")  # no inf
    if col.kind in ("int", "Int", "float"):
        if col.min is not None:
            checks.append(f"{name} >= {_number(col.min)}")
        if col.max is not None:
            checks.append(f"{name} <= {_number(col.max)}")
    if col.values is not None:
        # An OR chain rather than IN (...): SQLite builds a temporary b-tree for every IN list
        # it evaluates inside a CHECK, which makes bulk loads several times slower.
        checks.append("(" + " OR ".join(f"{name} = {_literal(v)}" for v in col.values) + ")")
    if checks:
        parts.append(f"CHECK ({' AND '.join(checks)})")
    return " ".join(parts)


def table_ddl(name: str) -> str:
    """The ``CREATE TABLE`` statement of one contract table (SQLite, STRICT)."""
    if name not in TABLES:
        raise ValueError(f"table_ddl(): unknown table {name!r}; known tables: {list(TABLE_NAMES)}.")
    table = TABLES[name]
    lines = [_column_ddl(col) for col in table.columns]
    key = _key_columns(table)
    if key:
        lines.append(f"PRIMARY KEY ({', '.join(quote(k) for k in key)})")
    for col, target in table.foreign.items():
        t_name, t_col = target.split(".")
        lines.append(f"FOREIGN KEY ({quote(col)}) REFERENCES {quote(t_name)} ({quote(t_col)})")
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {quote(name)} (\n  {body}\n) STRICT"


def index_ddl(name: str) -> list[str]:
    """``CREATE INDEX`` statements: every foreign-key column and every timestamp column.

    A column that already leads the primary key is skipped (the key's own index serves it).
    """
    table = TABLES[name]
    key = _key_columns(table)
    wanted: list[str] = []
    for col in table.columns:
        if col.name in table.foreign or col.kind == "datetime":
            if key and col.name == key[0]:
                continue
            wanted.append(col.name)
    return [
        f"CREATE INDEX {quote(f'idx_{name}_{col}')} ON {quote(name)} ({quote(col)})" for col in wanted
    ]


def schema_sql() -> str:
    """The whole database schema as one SQL script (tables in dependency order, then indexes)."""
    statements = [table_ddl(n) for n in _dependency_order()]
    statements += [s for n in _dependency_order() for s in index_ddl(n)]
    statements += list(_META_DDL)
    return ";\n\n".join(statements) + ";\n"


def _dependency_order() -> list[str]:
    """Contract tables ordered so that every referenced table comes first (self-references aside)."""
    done: list[str] = []
    pending = list(TABLE_NAMES)
    while pending:
        progressed = False
        for name in list(pending):
            targets = {t.split(".")[0] for t in TABLES[name].foreign.values()} - {name}
            if targets <= set(done):
                done.append(name)
                pending.remove(name)
                progressed = True
        if not progressed:  # a cycle: keep contract order for the rest (FKs are deferred on load)
            done += pending
            break
    return done


def _checked_tables(shop: Any, salt: str | bytes | None) -> Mapping[str, pd.DataFrame]:
    """The tables of ``shop`` for :meth:`CRMStore.load`, checked against the contract (known
    names, DataFrames, exactly the contract's columns), contact fields tokenised with ``salt``."""
    tables = getattr(shop, "tables", shop)
    if not isinstance(tables, Mapping):
        raise ValueError(
            f"load(): expected a Shop (or a dict of table name -> DataFrame), got {type(shop).__name__}."
        )
    unknown = [n for n in tables if n not in TABLES]
    if unknown:
        raise ValueError(
            f"load(): unknown table(s) {unknown}; the store holds {list(TABLE_NAMES)} "
            "(drop the others before loading)."
        )
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"load(): table {name!r} must be a pandas DataFrame, got {type(df).__name__}.")
        expected = TABLES[name].column_names
        missing = [c for c in expected if c not in df.columns]
        extra = [c for c in df.columns if c not in expected]
        if missing or extra:
            raise ValueError(
                f"load(): table {name!r} does not match the contract: missing column(s) {missing}, "
                f"extra column(s) {extra}; fix: give it exactly the columns of datasets/README.md."
            )
    if salt is not None:
        from crmlab.profile import pseudonymize

        tables = {name: pseudonymize(df, [c for c in CONTACT_FIELDS.get(name, ()) if c in df.columns], salt)
                  if name in CONTACT_FIELDS else df for name, df in tables.items()}
    return tables


# --------------------------------------------------------------------------- the store


class CRMStore:
    """The shop's CRM database in SQLite: schema from the contract, one-transaction loads.

    ``path`` is a file path or ``":memory:"``. Opening an existing file checks that it was
    created with this schema version. Use it as a context manager (or call :meth:`close`)::

        with CRMStore("crm.sqlite") as store:
            store.load(shop)
            store.orders_of(42)
            store.query("SELECT channel, SUM(amount) AS revenue FROM orders GROUP BY channel")

    Parameters
    ----------
    path : str or os.PathLike, default ":memory:"
        The database file (created private, mode 0600, when missing; its folder must exist)
        or ``":memory:"`` for a database that lives as long as the object.
    timeout : float, default LOCK_TIMEOUT
        Seconds a statement waits for another connection's lock before a ValueError.
    """

    def __init__(self, path: str | os.PathLike = ":memory:", *, timeout: float = LOCK_TIMEOUT):
        self.path = str(path)
        self.timeout = float(timeout)
        if self.path != ":memory:":
            file = Path(self.path).expanduser().resolve()
            if file.is_dir():
                raise ValueError(f"CRMStore(): {file} is a folder, not a database file; pass a file "
                                 "path such as crm.sqlite inside it.")
            if not file.parent.is_dir():
                raise ValueError(f"CRMStore(): folder {file.parent} does not exist; create it or pick another path.")
            if not file.exists():
                # Created private (mode 0600): the store holds customers' e-mails and orders,
                # which other users of the machine have no business reading.
                os.close(os.open(file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        # Autocommit mode: transactions are opened and closed explicitly (BEGIN ... COMMIT).
        self._con = sqlite3.connect(self.path, isolation_level=None, timeout=self.timeout)
        self._categories_cache: dict[str, dict[str, list[str]]] | None = None
        try:
            with self._clear_errors():
                self._con.execute("PRAGMA foreign_keys = ON")
                self._con.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache: index builds sort in memory
                self._con.execute("PRAGMA temp_store = MEMORY")
                self._create_schema()
        except BaseException:
            self._con.close()
            raise

    @contextmanager
    def _clear_errors(self) -> Iterator[None]:
        """SQLite's errors a user can act on, as one ValueError naming the file and the fix."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise ValueError(
                    f"CRMStore: {self.path} is locked by another connection (waited "
                    f"{self.timeout:g} s); close the other notebook or database browser that is "
                    "writing to it and retry, or pass CRMStore(path, timeout=30)."
                ) from exc
            if "file is not a database" in text or "unable to open" in text:
                raise ValueError(
                    f"CRMStore(): {self.path} is not an SQLite database this program can open "
                    f"({text}); pass a new file path or the crm.sqlite a CRMStore created."
                ) from exc
            raise

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the database connection."""
        self._con.close()

    def __enter__(self) -> CRMStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            n = self.counts()
            rows = ", ".join(f"{k}={v:,}" for k, v in n.items() if v)
        except sqlite3.ProgrammingError:
            return f"CRMStore({self.path!r}, closed)"
        return f"CRMStore({self.path!r}: {rows or 'empty'})"

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying ``sqlite3.Connection`` (for pandas ``read_sql`` or your own SQL)."""
        return self._con

    def _create_schema(self) -> None:
        existing = {
            name: sql for name, sql in self._con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            )
        }
        ours = [n for n in TABLE_NAMES if n in existing]
        if ours:
            version = self._con.execute(
                "SELECT value FROM crmlab_meta WHERE key = 'schema_version'"
            ).fetchone() if "crmlab_meta" in existing else None
            differs = [n for n in ours if existing[n] != table_ddl(n)]
            if version is None or version[0] != SCHEMA_VERSION or differs or len(ours) != len(TABLE_NAMES):
                raise ValueError(
                    f"CRMStore(): {self.path} holds tables that do not match this crmlab schema "
                    f"(version {version[0] if version else 'unknown'}, expected {SCHEMA_VERSION}; "
                    f"different: {differs or 'missing tables'}); open a new path or delete the file."
                )
            return
        self._con.execute("BEGIN IMMEDIATE")
        try:
            for name in _dependency_order():
                self._con.execute(table_ddl(name))
                for stmt in index_ddl(name):
                    self._con.execute(stmt)
            for stmt in _META_DDL:
                self._con.execute(stmt)
            self._con.execute(
                "INSERT INTO crmlab_meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    # ----------------------------------------------------------------- loading

    def counts(self) -> dict[str, int]:
        """Rows per contract table."""
        return {
            name: int(self._con.execute(f"SELECT COUNT(*) FROM {quote(name)}").fetchone()[0])
            for name in TABLE_NAMES
        }

    def is_empty(self) -> bool:
        """True when no contract table holds a row."""
        return not any(self.counts().values())

    def load(self, shop: Any, *, replace: bool = False, salt: str | bytes | None = None) -> dict[str, int]:
        """Import every table of ``shop`` in one transaction; returns rows loaded per table.

        ``salt``: load the contact fields (:data:`CONTACT_FIELDS`, the customers' e-mail)
        as keyed tokens instead of in clear -- HMAC-SHA256 with ``salt`` as the key
        (:func:`crmlab.profile.pseudonymize`; at least 16 bytes, e.g.
        ``secrets.token_hex(16)``). The same address gives the same token, so joins and
        de-duplication still work, but the store alone does not reveal it; keep the salt
        outside the database (an environment variable or a key store), never in it.

        All or nothing: on any failure (a bad dtype, a duplicate key, an unknown label, an
        order pointing at a missing customer, even an interrupt) the transaction is rolled
        back and the database is exactly as it was before the call. ``replace=True`` deletes
        the current rows first, inside the same transaction. Tables the shop lacks stay empty.

        Parameters
        ----------
        shop : Shop or dict of str to pd.DataFrame
            The tables to import, each with exactly the contract's columns.
        replace : bool, default False
            Delete the rows already stored first (otherwise a non-empty store refuses).
        salt : str or bytes, optional
            Key for tokenising the contact fields (at least 16 bytes); None stores them in clear.

        Returns
        -------
        dict of str to int
            Rows loaded per table.
        """
        tables = _checked_tables(shop, salt)
        if not replace and not self.is_empty():
            filled = {k: v for k, v in self.counts().items() if v}
            raise ValueError(
                f"load(): the store already holds data ({filled}); pass replace=True to replace it "
                "or open a new CRMStore path."
            )
        config = getattr(shop, "config", {}) or {}
        with self._clear_errors():  # another writer holding the lock: a clear error, not a traceback
            self._con.execute("BEGIN IMMEDIATE")
        try:
            loaded = self._write(tables, config, replace)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            self._categories_cache = None
            raise
        self._categories_cache = None
        return loaded

    def _write(self, tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any], replace: bool) -> dict[str, int]:
        """The body of :meth:`load`'s transaction: clear (with ``replace``), insert, re-index,
        check foreign keys, record the config; returns rows loaded per table."""
        con = self._con
        loaded: dict[str, int] = {}
        con.execute("PRAGMA defer_foreign_keys = ON")  # checked once, before COMMIT
        if replace:
            for name in reversed(_dependency_order()):
                con.execute(f"DELETE FROM {quote(name)}")
            con.execute("DELETE FROM crmlab_categories")
            con.execute("DELETE FROM crmlab_meta WHERE key <> 'schema_version'")
        # Bulk-load pattern: drop the secondary indexes, insert, rebuild them (sorting once
        # is much faster than updating every index row by row). DDL is transactional in
        # SQLite, so a rollback restores the indexes too.
        for name in tables:
            for index in self._index_names(name):
                con.execute(f"DROP INDEX {quote(index)}")
        for name in _dependency_order():
            if name in tables:
                loaded[name] = self._insert(name, tables[name])
        for name in tables:
            for stmt in index_ddl(name):
                con.execute(stmt)
        self._check_foreign_keys()
        con.execute(
            "INSERT OR REPLACE INTO crmlab_meta (key, value) VALUES ('config', ?)",
            (json.dumps(plain(config), sort_keys=True, default=str),),
        )
        con.execute(
            "INSERT OR REPLACE INTO crmlab_meta (key, value) VALUES ('tables', ?)",
            (json.dumps(sorted(loaded)),),
        )
        return loaded

    def _index_names(self, name: str) -> list[str]:
        """The store's own secondary indexes on table ``name`` that currently exist."""
        ours = {stmt.split('"')[1] for stmt in index_ddl(name)}
        return [r[0] for r in self._con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (name,)) if r[0] in ours]

    def _insert(self, name: str, df: pd.DataFrame) -> int:
        table = TABLES[name]
        columns = to_sql_values(df, table)
        cols = ", ".join(quote(c) for c in table.column_names)
        marks = ", ".join("?" for _ in table.columns)
        sql = f"INSERT INTO {quote(name)} ({cols}) VALUES ({marks})"
        try:
            self._con.executemany(sql, zip(*columns, strict=True))
        except sqlite3.IntegrityError as exc:
            raise ValueError(
                f"load(): table {name!r} breaks a constraint of the store ({exc}); fix the rows "
                "(crmlab.data.validate(shop) names them) and load again. Nothing was imported."
            ) from None
        rows = [(name, c, i, v) for c, cats in categories_of(df, table).items() for i, v in enumerate(cats)]
        self._con.executemany(
            "INSERT INTO crmlab_categories (table_name, column_name, position, value) VALUES (?, ?, ?, ?)", rows
        )
        return len(df)

    def _check_foreign_keys(self) -> None:
        problems = self._con.execute("PRAGMA foreign_key_check").fetchall()
        if not problems:
            return
        # Rows: (table, rowid, parent, fkid). Name the column and a few offending values.
        first: dict[tuple[str, int], list[int]] = {}
        for table, rowid, _parent, fkid in problems:
            first.setdefault((table, fkid), []).append(rowid)
        messages = []
        for (table, fkid), rowids in first.items():
            fk = [r for r in self._con.execute(f"PRAGMA foreign_key_list({quote(table)})") if r[0] == fkid][0]
            parent, column, target = fk[2], fk[3], fk[4]
            sample = [r[0] for r in self._con.execute(
                f"SELECT DISTINCT {quote(column)} FROM {quote(table)} WHERE rowid IN "
                f"({', '.join('?' for _ in rowids[:5])})", rowids[:5])]
            messages.append(
                f"table {table!r}, column {column!r}: {len(rowids)} row(s) point at no {parent}.{target} "
                f"(e.g. {sample})"
            )
        raise ValueError(
            "load(): foreign keys broken: " + "; ".join(messages)
            + ". Fix: load the referenced table too, or remove/blank those rows. Nothing was imported."
        )

    # ----------------------------------------------------------------- reading

    def _categories(self) -> dict[str, dict[str, list[str]]]:
        if self._categories_cache is None:
            cats: dict[str, dict[str, list[str]]] = {}
            for table, column, value in self._con.execute(
                "SELECT table_name, column_name, value FROM crmlab_categories "
                "ORDER BY table_name, column_name, position"
            ):
                cats.setdefault(table, {}).setdefault(column, []).append(value)
            self._categories_cache = cats
        return self._categories_cache

    def _fetch(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> tuple[list[str], list[tuple]]:
        with self._clear_errors():
            cur = self._con.execute(sql, params)
            names = [d[0] for d in cur.description] if cur.description else []
            return names, cur.fetchall()

    def _typed(self, name: str, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> pd.DataFrame:
        """Run a SELECT of all columns of contract table ``name``; restore the contract dtypes."""
        names, rows = self._fetch(sql, params)
        table = TABLES[name]
        raw = {c: [r[i] for r in rows] for i, c in enumerate(names)}
        return restore(raw, len(rows), table.columns, self._categories().get(name, {}))

    def _select_all(self, name: str) -> str:
        table = TABLES[name]
        cols = ", ".join(quote(c) for c in table.column_names)
        return f"SELECT {cols} FROM {quote(name)}"

    def _order_by(self, name: str) -> str:
        key = _key_columns(TABLES[name])
        return " ORDER BY " + ", ".join(quote(k) for k in key) if key else " ORDER BY rowid"

    def table(self, name: str) -> pd.DataFrame:
        """A whole table with the contract's dtypes, ordered by its primary key."""
        if name not in TABLES:
            raise ValueError(f"table(): unknown table {name!r}; known tables: {list(TABLE_NAMES)}.")
        return self._typed(name, self._select_all(name) + self._order_by(name))

    def tables(self, names: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
        """Several tables (default: every table the last :meth:`load` imported)."""
        return {n: self.table(n) for n in (list(names) if names is not None else self.loaded_tables())}

    def loaded_tables(self) -> list[str]:
        """Names of the tables the last :meth:`load` imported, in contract order."""
        row = self._con.execute("SELECT value FROM crmlab_meta WHERE key = 'tables'").fetchone()
        names = set(json.loads(row[0])) if row else set()
        return [n for n in TABLE_NAMES if n in names]

    @property
    def config(self) -> dict[str, Any]:
        """The loaded shop's configuration (start, end, seed, ...), as stored on load."""
        row = self._con.execute("SELECT value FROM crmlab_meta WHERE key = 'config'").fetchone()
        return json.loads(row[0]) if row else {}

    def to_shop(self) -> Any:
        """The loaded tables as a :class:`~crmlab.data.Shop` (truth is not stored: it is not CRM data)."""
        from .simulate import Shop

        return Shop(tables=self.tables(), truth={}, config=self.config)

    def rows_of(self, name: str, **where: Any) -> pd.DataFrame:
        """Rows of table ``name`` where each given column equals its value (bound parameters).

        ``store.rows_of("tickets", customer_id=42)``; ``None`` matches SQL NULL. Column names
        are checked against the contract, values are never put into the SQL text.
        """
        if name not in TABLES:
            raise ValueError(f"rows_of(): unknown table {name!r}; known tables: {list(TABLE_NAMES)}.")
        table = TABLES[name]
        if not where:
            raise ValueError("rows_of(): give at least one column=value filter, or use table(name).")
        clauses, params = [], []
        for column, value in where.items():
            if column not in table.column_names:
                raise ValueError(
                    f"rows_of(): table {name!r} has no column {column!r}; columns: {table.column_names}."
                )
            if value is None:
                clauses.append(f"{quote(column)} IS NULL")
                continue
            kind = table.column(column).kind
            if kind in ("int", "Int"):
                value = check_id(value, name, column)
            elif kind == "datetime":
                value = datetime_text(pd.Series([pd.Timestamp(value)]), name, column)[0]
            elif kind == "bool":
                value = int(bool(value))
            elif isinstance(value, np.generic):
                value = value.item()
            clauses.append(f"{quote(column)} = ?")
            params.append(value)
        sql = self._select_all(name) + " WHERE " + " AND ".join(clauses) + self._order_by(name)
        return self._typed(name, sql, params)

    def customer(self, customer_id: int) -> pd.Series:
        """One customer's row (identity, consent, segment-free profile) as a Series."""
        row = self.rows_of("customers", customer_id=customer_id)
        if row.empty:
            n, lo, hi = self._con.execute(
                "SELECT COUNT(*), MIN(customer_id), MAX(customer_id) FROM customers").fetchone()
            raise ValueError(
                f"customer(): customer_id {customer_id} is not in table 'customers' "
                f"({n} members, ids {lo}..{hi}); pass an existing id."
            )
        return row.iloc[0]

    def orders_of(self, customer_id: int) -> pd.DataFrame:
        """A customer's orders, oldest first (empty for a member who never bought)."""
        return self.rows_of("orders", customer_id=customer_id).sort_values(
            ["order_ts", "order_id"], kind="stable").reset_index(drop=True)

    def order_lines(self, order_id: int) -> pd.DataFrame:
        """The lines of one order, with the product name and category (typed)."""
        lines = self.rows_of("order_items", order_id=order_id)
        products = self.table("products")[["product_id", "name", "category"]]
        return lines.merge(products, on="product_id", how="left")

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *,
              like: str | None = None) -> pd.DataFrame:
        """Run one read-only SQL statement with bound parameters; return a DataFrame.

        ``params`` fills ``?`` (a sequence) or ``:name`` (a mapping) placeholders - never
        build SQL by pasting values into the string. Statements that would change the
        database are refused. ``like="orders"`` restores the dtypes of result columns named
        like that table's columns (e.g. ``order_ts`` back to datetime, ``channel`` to category).
        """
        if not isinstance(sql, str) or not sql.strip():
            raise ValueError("query(): sql must be a non-empty SQL string such as 'SELECT * FROM orders'.")
        if isinstance(params, str | bytes) or not isinstance(params, Sequence | Mapping):
            raise ValueError(
                f"query(): params must be a list/tuple (for ?) or a dict (for :name), got {params!r}; "
                "e.g. store.query('SELECT * FROM orders WHERE customer_id = ?', [42])."
            )
        if like is not None and like not in TABLES:
            raise ValueError(f"query(): like={like!r} is not a table; known tables: {list(TABLE_NAMES)}.")
        params = [p.item() if isinstance(p, np.generic) else p for p in params] \
            if not isinstance(params, Mapping) else {k: (v.item() if isinstance(v, np.generic) else v)
                                                     for k, v in params.items()}

        def authorizer(action: int, *_: Any) -> int:
            return sqlite3.SQLITE_DENY if action in _WRITE_ACTIONS else sqlite3.SQLITE_OK

        self._con.set_authorizer(authorizer)
        try:
            names, rows = self._fetch(sql, params)
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"query(): SQLite refused the statement ({exc}); query() only reads. "
                             f"SQL was: {sql.strip()[:200]}") from None
        except sqlite3.Warning as exc:  # e.g. several statements at once
            raise ValueError(f"query(): {exc}; run one SELECT statement at a time.") from None
        finally:
            self._con.set_authorizer(None)
        frame = pd.DataFrame.from_records(rows, columns=names) if rows else pd.DataFrame(columns=names)
        if like is None:
            return frame
        table = TABLES[like]
        known = [c for c in table.columns if c.name in frame.columns]
        raw = {c.name: frame[c.name].tolist() for c in known}
        typed = restore(raw, len(frame), known, self._categories().get(like, {}))
        for c in known:
            frame[c.name] = typed[c.name]
        return frame

    def dump(self) -> Iterator[str]:
        """The database as SQL text (``sqlite3.Connection.iterdump``): a full, comparable snapshot."""
        return self._con.iterdump()

