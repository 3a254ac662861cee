"""The engines: a SQL dialect (the few expressions that differ between DuckDB and Spark)
and a runner per engine that registers sources and returns pandas frames."""

from __future__ import annotations

import glob as _glob
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab.scale.sources import _is_path, _is_relation, _is_spark_frame, _parquet_glob


def _to_pandas(obj: object, table: str) -> pd.DataFrame:
    """The whole source in memory (the pandas engine, and only for it)."""
    if isinstance(obj, pd.DataFrame):
        return obj
    if _is_path(obj):
        files = sorted(_glob.glob(_parquet_glob(obj, table), recursive=True))
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    if _is_relation(obj):
        return obj.df()
    with _quiet_spark():
        return obj.toPandas()


@dataclass(frozen=True)
class _Dialect:
    """What differs between DuckDB's and Spark's SQL for these queries."""

    name: str

    def q(self, col: str) -> str:
        """A quoted identifier."""
        if self.name == "spark":
            return "`" + col.replace("`", "``") + "`"
        return '"' + col.replace('"', '""') + '"'

    def day(self, expr: str) -> str:
        """Days since 1970-01-01 of the timestamp's calendar date (int)."""
        if self.name == "spark":
            return f"unix_date(CAST({expr} AS DATE))"
        return f"(CAST({expr} AS DATE) - DATE '1970-01-01')"

    def month(self, expr: str) -> str:
        """Months since 1970-01 (what ``to_period('M')`` numbers)."""
        return f"((year({expr}) - 1970) * 12 + month({expr}) - 1)"

    def hour(self, expr: str) -> str:
        """Hours since 1970-01-01 00:00."""
        return f"({self.day(expr)} * 24 + hour({expr}))"

    def week(self, expr: str) -> str:
        """Monday..Sunday weeks numbered as ``clv`` does: floor((day + 3) / 7)."""
        return f"CAST(floor(({self.day(expr)} + 3) / 7) AS BIGINT)"

    def ts(self, value: pd.Timestamp) -> str:
        """A timestamp literal."""
        kind = "TIMESTAMP_NTZ" if self.name == "spark" else "TIMESTAMP"
        return f"{kind} '{value.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


#: column kinds read from an engine's type names
_KIND_PREFIXES = (
    ("timestamp with time zone", "datetime_tz"), ("timestamptz", "datetime_tz"),
    ("timestamp", "datetime"), ("date", "date"),
    ("bigint", "int"), ("integer", "int"), ("int", "int"), ("smallint", "int"),
    ("tinyint", "int"), ("hugeint", "int"), ("ubigint", "int"), ("uinteger", "int"),
    ("usmallint", "int"), ("utinyint", "int"),
    ("double", "float"), ("float", "float"), ("real", "float"), ("decimal", "float"),
    ("varchar", "str"), ("string", "str"), ("enum", "str"), ("boolean", "bool"),
)


def _kind(type_name: str) -> str:
    t = type_name.lower()
    if t == "timestamp" or t.startswith("timestamp_ns") or t.startswith("timestamp_ms") \
            or t.startswith("timestamp_s") or t == "timestamp_ntz":
        return "datetime"
    for prefix, kind in _KIND_PREFIXES:
        if t.startswith(prefix):
            return kind
    return "other"


class _Runner:
    """Runs SQL over named tables on one engine and returns pandas frames."""

    dialect: _Dialect

    def register(self, name: str, source: object, table: str) -> dict[str, str]:
        """Make ``source`` queryable as ``name``; return its ``{column: kind}``."""
        raise NotImplementedError

    def run(self, sql: str, max_rows: int | None = None) -> pd.DataFrame:
        """The query's result as a pandas frame; ``max_rows``, an upper bound on its rows,
        lets an engine that streams write the result into its final arrays directly."""
        raise NotImplementedError

    def close(self) -> None:
        """Drop what :meth:`register` created."""


class _DuckRunner(_Runner):
    """DuckDB: a connection of the caller's (``con=``), a relation's own, or a new one.

    A DuckDB relation belongs to the connection that made it; without ``con=`` its SQL is
    run through ``relation.query`` on that connection (other sources of the same call must
    then be Parquet paths or relations of the same connection).
    """

    def __init__(self, con: Any = None):
        import duckdb

        self.dialect = _Dialect("duckdb")
        self.con = con
        self.anchor = None  # a relation whose connection runs the SQL when con is None
        self.views: list[str] = []
        self.paths: dict[str, str] = {}  # view name -> Parquet glob (footer statistics)
        self._duckdb = duckdb
        self.owned = False

    def _exec(self, sql: str) -> Any:
        if self.con is not None:
            return self.con.sql(sql)
        return self.anchor.query("crmlab_anchor", sql)

    def register(self, name: str, source: object, table: str) -> dict[str, str]:
        if _is_relation(source):
            if self.con is None and self.anchor is None:
                self.anchor = source
            source.create_view(name, replace=True)
        else:
            if self.con is None and self.anchor is None:
                if isinstance(source, pd.DataFrame) or _is_path(source):
                    self.con = self._duckdb.connect()
                    self.owned = True
            if _is_path(source):
                path = _parquet_glob(source, table).replace("'", "''")
                self._exec(f"CREATE OR REPLACE TEMP VIEW {name} AS "
                           f"SELECT * FROM read_parquet('{path}')")
                self.paths[name] = path
            elif self.con is None:
                raise ValueError(
                    f"{table}: a pandas frame cannot join a DuckDB relation without its "
                    "connection; pass con=<the connection the relation came from>.")
            else:
                self.con.register(name, source)
        self.views.append(name)
        rel = self._exec(f"SELECT * FROM {name} LIMIT 0")
        return {c: _kind(str(t)) for c, t in zip(rel.columns, rel.types, strict=True)}

    def run(self, sql: str, max_rows: int | None = None) -> pd.DataFrame:
        """The query's result as a pandas frame, streamed in Arrow record batches.

        ``fetchnumpy`` first materialises the whole result inside DuckDB and then copies it
        to numpy, so both copies are alive at once: at 25 million customers the BTYD
        summary peaked at 3.3 GB under ``memory_limit=1GB``. Streamed, DuckDB hands over one
        batch at a time and the peak is the numpy result plus one batch (2.3 GB). With
        ``max_rows`` each batch is copied into the final arrays at once (see
        :func:`_arrow_frame`).
        """
        rel = self._exec(sql)
        reader = (rel.to_arrow_reader(_BATCH_ROWS) if hasattr(rel, "to_arrow_reader")
                  else rel.fetch_arrow_reader(_BATCH_ROWS))
        return _arrow_frame(reader, max_rows)

    def footer_profile(self, name: str, cols: Sequence[str],
                       kinds: Sequence[str]) -> pd.Series | None:
        """:func:`_profile` from the Parquet footers' statistics, without reading the data.

        Returns ``None`` (scan instead) unless ``name`` is a Parquet source whose every row
        group has exact statistics (null count, min, max) for every column in ``cols``.
        ``kinds`` are the columns' kinds ("datetime", "int", "float", ...) to read the
        string statistics with. The first column's min and max are ``lo`` and ``hi``; a
        float column's min is ``min_<i>`` (NaN in the data is not in the statistics; the
        sums it poisons are checked on the result).
        """
        path = self.paths.get(name)
        if path is None:
            return None
        types = {"datetime": "TIMESTAMP", "date": "DATE", "int": "DOUBLE", "float": "DOUBLE"}
        wanted = ", ".join("'" + c.replace("'", "''") + "'" for c in cols)
        meta = self._exec(f"""
            SELECT path_in_schema AS col, count(*) AS groups, sum(num_values) AS n,
                   count(stats_null_count) AS with_nulls, sum(stats_null_count) AS nulls,
                   bool_and(coalesce(min_is_exact AND max_is_exact, false)) AS exact,
                   list(stats_min_value) AS mins, list(stats_max_value) AS maxs
            FROM parquet_metadata('{path}') WHERE path_in_schema IN ({wanted})
            GROUP BY path_in_schema""").df().set_index("col")
        if set(meta.index) != set(cols) or meta["groups"].nunique() != 1 \
                or (meta["with_nulls"] != meta["groups"]).any() or not meta["exact"].all() \
                or meta["n"].nunique() != 1:
            return None
        out = {"n": int(meta["n"].iloc[0])}
        for i, (col, kind) in enumerate(zip(cols, kinds, strict=True)):
            out[f"n_{i}"] = out["n"] - int(meta.at[col, "nulls"])
            if kind not in types:
                continue
            mins = [v for v in meta.at[col, "mins"] if v is not None]
            maxs = [v for v in meta.at[col, "maxs"] if v is not None]
            if not mins:  # row groups holding only nulls have no min; the others decide
                lo = hi = None
            elif kind in ("datetime", "date"):
                lo, hi = min(pd.Timestamp(v) for v in mins), max(pd.Timestamp(v) for v in maxs)
            else:
                lo, hi = min(float(v) for v in mins), max(float(v) for v in maxs)
            out[f"min_{i}"] = lo
            if i == 0:
                out["lo"], out["hi"] = lo, hi
        return pd.Series(out, dtype=object)

    def close(self) -> None:
        if self.owned:
            self.con.close()
            return
        for name in self.views:
            try:
                if self.con is not None:
                    self.con.unregister(name)
                self._exec(f"DROP VIEW IF EXISTS {name}")
            except Exception:  # noqa: BLE001 - a view that is gone already is fine
                pass


#: Rows per Arrow batch when a DuckDB result is streamed into pandas (about 40 MB a batch
#: for the five columns of an RFM table).
_BATCH_ROWS = 1 << 20


def _arrow_column(values: Any) -> np.ndarray:
    """One Arrow array as numpy, typed as ``fetchnumpy`` would give it: dates as
    ``datetime64[us]``, decimals as float; with NULLs, numbers become float with NaN and
    the rest objects with None (as :func:`_numpy_frame` does)."""
    import pyarrow as pa

    kind = values.type
    if pa.types.is_date(kind):
        values = values.cast(pa.timestamp("us"))
    elif pa.types.is_decimal(kind):
        values = values.cast(pa.float64())
    elif values.null_count and (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
        values = values.cast(pa.float64())
    return values.to_numpy(zero_copy_only=False)


def _arrow_frame(reader: Any, max_rows: int | None = None) -> pd.DataFrame:
    """A frame from a stream of Arrow record batches, each batch freed once converted.

    Without ``max_rows`` the batches' arrays are kept and joined column by column at the
    end. With ``max_rows`` (an upper bound on the rows, e.g. the input's row count for a
    ``GROUP BY``) every batch is copied into arrays of that length reserved up front and
    freed at once: only the pages the result fills become resident, and no second copy of
    the result is ever made (the join at the end made one column's copy and left freeing
    the batches to the allocator, which on some runs kept them: 3.2 GB instead of 2.3 GB
    for a 25-million-row BTYD summary under ``memory_limit=1GB``).
    """
    if max_rows is not None:
        return _arrow_frame_into(reader, int(max_rows))
    names = list(reader.schema.names)
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for batch in reader:
        for name, values in zip(names, batch.columns, strict=True):
            parts[name].append(_arrow_column(values))
        del batch
    cols: dict[str, Any] = {}
    for name, field in zip(names, reader.schema, strict=True):
        chunks = parts.pop(name)
        if not chunks:
            import pyarrow as pa

            chunks = [_arrow_column(pa.array([], type=field.type))]
        cols[name] = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        del chunks
    return pd.DataFrame(cols, copy=False)


def _arrow_frame_into(reader: Any, max_rows: int) -> pd.DataFrame:
    """:func:`_arrow_frame` writing each batch into reserved arrays of ``max_rows``."""
    names = list(reader.schema.names)
    cols: dict[str, np.ndarray] = {}
    n = 0
    for batch in reader:
        rows = batch.num_rows
        if n + rows > max_rows:
            raise RuntimeError(f"the query returned more than max_rows={max_rows:,} rows.")
        for name, values in zip(names, batch.columns, strict=True):
            part = _arrow_column(values)
            col = cols.get(name)
            if col is None:
                col = cols[name] = np.empty(max_rows, dtype=part.dtype)
            elif col.dtype != part.dtype:  # e.g. a batch with NULLs in an integer column
                col = cols[name] = _widened(col, n, part.dtype)
            col[n:n + rows] = part
        n += rows
        del batch
    if not cols:
        return _arrow_frame(reader)
    return pd.DataFrame({name: cols[name][:n] for name in names}, copy=False)


def _widened(col: np.ndarray, filled: int, dtype: np.dtype) -> np.ndarray:
    """``col`` re-reserved with a dtype that also holds ``dtype`` (its first rows kept)."""
    try:
        common = np.result_type(col.dtype, dtype)
    except TypeError:
        common = np.dtype(object)
    out = np.empty(col.size, dtype=common)
    out[:filled] = col[:filled]
    return out


def _numpy_frame(arrays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """A frame over DuckDB's numpy arrays without copying them.

    ``relation.df()`` peaks at about three times the result (3.6 GB for a 30-million-row
    RFM table) where ``fetchnumpy`` and a frame with ``copy=False`` need the result once.
    Columns with NULLs arrive as masked arrays: numbers become float with NaN, the rest
    objects with None (as pandas would show them).
    """
    cols: dict[str, Any] = {}
    for name, values in arrays.items():
        if isinstance(values, np.ma.MaskedArray):
            if not values.mask.any():
                values = values.data
            elif values.dtype.kind in "iufb":
                values = values.astype("float64").filled(np.nan)
            elif values.dtype.kind == "M":
                values = values.filled(np.datetime64("NaT"))
            else:
                values = values.astype(object).filled(None)
        cols[name] = values
    return pd.DataFrame(cols, copy=False)


@contextmanager
def _quiet_spark() -> Iterator[None]:
    """pyspark warns that it 'does not yet fully support pandas >= 3'; the conversions used
    here (Arrow, plain numbers, strings, timestamps) are covered by the tests."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyspark.*")
        yield


class _SparkRunner(_Runner):
    """Spark: the session given (``con=``), the active one, or :func:`spark_session`."""

    def __init__(self, con: Any = None):
        self.dialect = _Dialect("spark")
        self.spark = con if con is not None else _active_or_new_session()
        self.views: list[str] = []

    def register(self, name: str, source: object, table: str) -> dict[str, str]:
        with _quiet_spark():
            if _is_spark_frame(source):
                frame = source
            elif _is_path(source):
                frame = self._read_parquet(_parquet_glob(source, table))
            elif _is_relation(source):
                frame = self.spark.createDataFrame(source.to_arrow_table().to_pandas())
            else:
                frame = self.spark.createDataFrame(source)
            frame.createOrReplaceTempView(name)
        self.views.append(name)
        return {c: _kind(t) for c, t in frame.dtypes}

    def _read_parquet(self, pattern: str) -> Any:
        """Read Parquet; nanosecond timestamps (pandas' default) are read as longs and turned
        into microsecond timestamps, since Spark has no nanosecond type."""
        import pyarrow.parquet as pq

        first = sorted(_glob.glob(pattern, recursive=True))[0]
        schema = pq.read_schema(first)
        nanos = [f.name for f in schema if str(f.type).startswith("timestamp[ns")]
        if not nanos:
            return self.spark.read.parquet(pattern)
        from pyspark.sql import functions as F

        key = "spark.sql.legacy.parquet.nanosAsLong"
        before = self.spark.conf.get(key, "false")
        self.spark.conf.set(key, "true")
        try:
            frame = self.spark.read.parquet(pattern)
            for col in nanos:
                micros = F.floor(F.col(col) / F.lit(1000)).cast("long")
                frame = frame.withColumn(col, F.timestamp_micros(micros))
            frame.columns  # noqa: B018 - resolve the schema while the option is on
        finally:
            self.spark.conf.set(key, before)
        return frame

    def run(self, sql: str, max_rows: int | None = None) -> pd.DataFrame:
        with _quiet_spark():
            return self.spark.sql(sql).toPandas()

    def close(self) -> None:
        for name in self.views:
            self.spark.catalog.dropTempView(name)


def _runner(engine: str, con: Any) -> _Runner:
    if engine == "spark":
        return _SparkRunner(con)
    return _DuckRunner(con)


@contextmanager
def _session(engine: str, con: Any, sources: Mapping[str, tuple[object, str]]
             ) -> Iterator[tuple[_Runner, dict[str, str], dict[str, dict[str, str]]]]:
    """Register ``{role: (source, table name)}``; yield the runner, SQL names and schemas."""
    runner = _runner(engine, con)
    names, schemas = {}, {}
    try:
        tag = uuid.uuid4().hex[:8]
        for role, (source, table) in sources.items():
            names[role] = f"crmlab_{role}_{tag}"
            schemas[role] = runner.register(names[role], source, table)
        yield runner, names, schemas
    finally:
        runner.close()


def duckdb_connection(memory_limit: str | None = "2GB", threads: int | None = None,
                      temp_directory: str | None = None) -> Any:
    """A DuckDB connection with a memory limit (what a 100-million-row job should use).

    DuckDB streams Parquet and spills its hash tables to ``temp_directory`` (default: a
    ``.tmp`` folder where it runs) when they outgrow ``memory_limit``, so peak memory stays
    near the limit whatever the size of the log. Pass it as ``con=`` to any function here.

    Parameters
    ----------
    memory_limit : str or None, default "2GB"
        DuckDB's ``memory_limit`` (None: DuckDB's default, 80% of RAM).
    threads : int, optional
        Worker threads (default: DuckDB's, one per core).
    temp_directory : str, optional
        Where to spill.

    Returns
    -------
    duckdb.DuckDBPyConnection
        The connection.
    """
    import duckdb

    config: dict[str, Any] = {}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = int(threads)
    if temp_directory is not None:
        config["temp_directory"] = temp_directory
    return duckdb.connect(config=config)


def java_available() -> bool:
    """Whether a Java runtime for Spark is on this machine (``JAVA_HOME`` or ``java``).

    Returns
    -------
    bool
        True when ``JAVA_HOME/bin/java`` exists or ``java`` is on the PATH.
    """
    import shutil

    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return True
    return shutil.which("java") is not None


# Long function: most of it is the docstring (local, cluster and Connect sessions,
# the quiet option); the body is 30 lines of session options.
def spark_session(master: str | None = "local[2]", *, remote: str | None = None,
                  app_name: str = "crmlab", shuffle_partitions: int = 8,
                  config: Mapping[str, str] | None = None, quiet: bool = True) -> Any:
    """A Spark session for these functions: local by default, or a cluster.

    * ``master="local[2]"`` (default): Spark inside this machine, two cores (Java 17+);
    * ``master="spark://host:7077"`` (or ``"yarn"``, ``"k8s://..."``): a classic cluster;
    * ``remote="sc://host:15002"``: a Spark Connect server (``pip install
      "pyspark[connect]"``); ``master`` is then ignored.

    The session's clock is UTC (naive timestamps keep their date), Arrow speeds up the
    conversion of results to pandas, and ``shuffle_partitions`` is small because results are
    summaries (raise it on a cluster). ``config`` adds or overrides Spark options.

    ``quiet`` (local sessions): the JVM's console output — start-up notes and log warnings,
    which would otherwise fill a notebook's cell — goes to a log file instead, named in the
    session's ``crmlab.log_file`` option. Errors still reach Python as exceptions.

    Parameters
    ----------
    master : str or None, default "local[2]"
        Spark master URL.
    remote : str, optional
        Spark Connect URL (``sc://host:port``).
    app_name : str, default "crmlab"
        The application's name.
    shuffle_partitions : int, default 8
        ``spark.sql.shuffle.partitions``.
    config : mapping of str to str, optional
        Further Spark options.
    quiet : bool, default True
        Send the JVM's console output of a local session to a log file.

    Returns
    -------
    pyspark.sql.SparkSession
        The session (``getOrCreate``: an existing one with the same master is reused).
    """
    if remote is None and not java_available():
        raise ValueError(
            "spark_session: no Java runtime found (JAVA_HOME or java on PATH); install Java 17 "
            "(e.g. apt-get install openjdk-17-jre-headless) or use engine='duckdb'.")
    with _quiet_spark():
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName(app_name)
        builder = builder.remote(remote) if remote is not None else builder.master(master)
        options = {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.sql.shuffle.partitions": str(int(shuffle_partitions)),
            "spark.ui.showConsoleProgress": "false",
            **({} if remote is not None else {"spark.ui.enabled": "false",
                                               "spark.driver.memory": "2g"}),
            **dict(config or {}),
        }
        for key, value in options.items():
            builder = builder.config(key, value)
        if remote is None and quiet and SparkSession.getActiveSession() is None:
            log_file = os.path.join(tempfile.gettempdir(), f"crmlab-spark-{os.getpid()}.log")
            session = _with_stderr_to(log_file, builder.config("crmlab.log_file", log_file)
                                      .getOrCreate)
        else:
            session = builder.getOrCreate()
        if remote is None:
            session.sparkContext.setLogLevel("ERROR")
    return session


def _with_stderr_to(path: str, start: Any) -> Any:
    """Call ``start()`` with this process's stderr (file descriptor 2) sent to ``path``, so
    that a child process it launches (Spark's JVM) writes its console output there."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            return start()
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _active_or_new_session() -> Any:
    with _quiet_spark():
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
    return active if active is not None else spark_session()
