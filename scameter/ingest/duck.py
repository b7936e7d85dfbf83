"""The DuckDB engine of out-of-core aggregation (``scameter ingest --engine duckdb``).

Responsibility: one embedded DuckDB database in the run's ``.tmp-*`` work directory, under
a memory limit, spilling to a ``spill`` directory beside it. It loads the event CSV files as
they are completed (each file is deleted once loaded), runs the stage-one SQL of
:mod:`scameter.ingest.ooc_sql` (or adopts the Parquet output of the Spark engine) and holds
the ranked tables that :class:`scameter.ingest.ooc.OutOfCore` reads batch by batch.

Invariants: everything DuckDB writes (database, WAL, spill) is inside the work directory, so
a killed run leaves nothing the next run's leftover clean-up does not remove; DuckDB runs
with at most ``threads`` threads (the parent's share of the machine).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from scameter.errors import IngestError
from scameter.index.space import human
from scameter.ingest import ooc_sql

#: Stage-one outputs that DuckDB keeps as views (read once, by rank()).
_VIEWS = frozenset({"agg0", "cs0"})
#: Memory budget per key of the per-identifier aggregate (bytes): a part groups at most
#: ``memory_limit // GROUP_BYTES`` keys. At 10^8 scale-mix events under a 2.3 GiB limit,
#: 12 parts of about 6x10^6 keys (this rule) took 288 s, 4 parts 378 s (they spilled).
GROUP_BYTES = 400
_CSV = "(FORMAT csv, HEADER false, AUTO_DETECT false, QUOTE '\"', ESCAPE '\"')"


def _columns(cols: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name} {typ}" for name, typ in cols)


class DuckStore:
    """The database of one run (see the module docstring)."""

    def __init__(
        self,
        workdir: Path,
        memory_limit: int,
        threads: int = 2,
        *,
        spill_needed: int | None = None,
        spill_limit: int | None = None,
    ) -> None:
        """``spill_needed``: the estimate of the work and spill bytes (named when the disk
        fills); ``spill_limit``: DuckDB's ``max_temp_directory_size`` in bytes (default:
        the free space of the disk, DuckDB's own default)."""
        try:
            import duckdb
        except ImportError:  # pragma: no cover - a default dependency
            raise IngestError(
                "--engine duckdb needs the duckdb package (pip install duckdb)"
            ) from None
        spill = workdir / "spill"
        spill.mkdir()
        self.path = workdir / "agg.duckdb"
        self.con: Any = duckdb.connect(str(self.path))
        con = self.con
        con.execute(f"SET memory_limit = '{max(memory_limit // (1 << 20), 64)}MiB'")
        con.execute("SET temp_directory = ?", [str(spill)])
        con.execute(f"SET threads = {max(1, threads)}")
        if spill_limit is not None:
            con.execute(f"SET max_temp_directory_size = '{max(spill_limit, 1)}B'")
        self.spill_needed = spill_needed
        con.execute("SET enable_progress_bar = false")
        # Nothing here needs insertion order but the ranked tables (see rank()); keeping it
        # costs memory in every large operator.
        con.execute("SET preserve_insertion_order = false")
        self.limit = memory_limit
        #: How many parts the last :meth:`aggregate` built ``agg1`` in.
        self.per_identifier_parts = 0
        self.spill = spill
        #: Tables stage one leaves for rank() to drop (its views read them).
        self._after_rank: list[str] = []
        con.execute(f"CREATE TABLE ev ({_columns(ooc_sql.EV_COLUMNS)})")
        con.execute(f"CREATE TABLE li ({_columns(ooc_sql.LI_COLUMNS)})")
        con.execute(f"CREATE TABLE ap ({_columns(ooc_sql.AP_COLUMNS)})")

    def run(self, sql: str, params: list[Any] | None = None) -> Any:
        """``con.execute``, with DuckDB's failures as one-line IngestError values:
        out of memory under the limit, or a spill that does not fit the disk."""
        import duckdb

        try:
            return self.con.execute(sql, params)
        except duckdb.OutOfMemoryException as exc:
            if "max_temp_directory_size" in str(exc):
                raise IngestError(self._spill_full()) from None
            raise IngestError(
                f"DuckDB ran out of memory under --memory-limit {self.limit >> 20} MiB "
                f"({_step(sql)}); raise the limit (nothing published, CURRENT unchanged)"
            ) from None
        except duckdb.IOException as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise IngestError(
                f"DuckDB could not write its spill under {self.spill} ({first}); "
                "free space there (nothing published, CURRENT unchanged)"
            ) from None

    def _spill_full(self) -> str:
        """The one line of a spill that did not fit: DuckDB stops spilling at
        ``max_temp_directory_size``, by default the free space of the disk."""
        free = shutil.disk_usage(self.spill).free
        need = f"about {human(self.spill_needed)} (estimate)" if self.spill_needed else "more"
        return (
            f"the disk under {self.spill} filled up while DuckDB spilled: this ingest needs "
            f"{need} there for DuckDB's work and spill, {human(free)} is free; free space "
            "there or raise --memory-limit (nothing published, CURRENT unchanged)"
        )

    def load(self, table: str, path: Path, *, delete: bool = True) -> None:
        """Append CSV file ``path`` to ``table``; the file is removed once loaded."""
        self.run(f"COPY {table} FROM '{_quoted(path)}' {_CSV}")
        if delete:
            path.unlink()

    def aggregate(self, *, as_of: int, public_start: int) -> None:
        """Stage one in DuckDB: ``agg0``, ``cs0``, ``grp`` from the event tables. ``agg0``
        and ``cs0`` are views, each read once by :meth:`rank`: storing them and reading them
        back cost about 1.3 CPU-s at 10^6 reports (measured) for nothing."""
        queries = ooc_sql.stage_one("duckdb", as_of=as_of, public_start=public_start)
        for name, sql in queries.items():
            if name == ooc_sql.PER_IDENTIFIER:
                self._per_identifier(as_of=as_of, public_start=public_start)
                continue
            kind = "VIEW" if name in _VIEWS else "TABLE"
            self.run(f"CREATE {kind} {name} AS {sql}")
        self._after_rank = ["ev", "li", "ap", *(q for q in queries if q not in ooc_sql.OUTPUTS)]

    def parts(self) -> int:
        """How many parts :meth:`_per_identifier` groups the keys in: one while every key
        fits the limit at :data:`GROUP_BYTES` each, else enough parts for that (the key
        count estimated by HyperLogLog, ``approx_count_distinct``)."""
        budget = max(1, self.limit // GROUP_BYTES)
        rows = int(self.run("SELECT count(*) FROM ev").fetchone()[0])
        if rows <= budget:  # the keys are at most the rows: no estimate needed
            return 1
        keys = int(self.run("SELECT approx_count_distinct(k) FROM ev").fetchone()[0])
        return max(1, -(-keys // budget))

    def _per_identifier(self, *, as_of: int, public_start: int) -> None:
        """``agg1``, in :meth:`parts` parts by a hash of the key. DuckDB 2.0's grouped
        aggregate over the ``UNION ALL`` did not spill enough at 7x10^7 keys: it ran out
        of memory under 2.3 GiB, at 10^8 scale-mix reports as on a synthetic table of the
        same shape, where 4 or 12 parts each passed (docs/benchmarks.md, round 9)."""
        table, n = ooc_sql.PER_IDENTIFIER, self.parts()
        for p in range(n):
            sql = ooc_sql.per_identifier(
                as_of=as_of,
                public_start=public_start,
                key_filter="TRUE" if n == 1 else f"hash(k) % {n} = {p}",
            )
            self.run(f"CREATE TABLE {table} AS {sql}" if p == 0 else f"INSERT INTO {table} {sql}")
        self.per_identifier_parts = n

    def adopt_parquet(self, directory: Path) -> None:
        """Stage one done elsewhere (Spark): its ``agg0``, ``cs0`` and ``grp`` Parquet
        directories under ``directory`` become the tables of the same names."""
        for name in ooc_sql.OUTPUTS:
            glob = _quoted(directory / name / "*.parquet")
            self.run(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{glob}')")

    def rank(self) -> int:
        """Stage two's tables: ``agg`` (ranked, stored in key order), ``cs`` (with ranks);
        returns the number of identifiers."""
        run = self.run
        # Stored in rank order (so that a batch's range query reads few row groups).
        run("SET preserve_insertion_order = true")
        run(f"CREATE TABLE agg AS {ooc_sql.ranked('agg0')} ORDER BY rank")
        run("SET preserve_insertion_order = false")
        # The case ids' ranks by a join written unordered first: the join and the ordered,
        # insertion-order-preserving write in one statement did not spill (10^7 scale-mix
        # reports ran out of memory under --memory-limit 240MB there, as did a synthetic
        # 10^7-row cs0 under 228 MiB); apart, each spills (docs/benchmarks.md, round 7).
        run(
            "CREATE TABLE cs1 AS SELECT a.rank AS rank, c.ts AS ts, c.cid AS cid "
            "FROM cs0 c JOIN agg a ON a.k = c.k"
        )
        run("SET preserve_insertion_order = true")
        run("CREATE TABLE cs AS SELECT * FROM cs1 ORDER BY rank, ts DESC, cid DESC")
        run("DROP TABLE cs1")
        for name in ("agg0", "cs0"):
            run(f"DROP {'VIEW' if self._after_rank else 'TABLE'} {name}")
        for table in self._after_rank:  # what the views read (stage one in DuckDB)
            run(f"DROP TABLE {table}")
        self._after_rank = []
        run("SET preserve_insertion_order = false")
        return int(run("SELECT count(*) FROM agg").fetchone()[0])

    def close(self) -> None:
        self.con.close()


def _step(sql: str) -> str:
    """The statement's head, naming the step in an error (``CREATE TABLE cs AS``): table
    names and clauses, never data (the statements carry no identifiers)."""
    head = " ".join(sql.split()[:4])
    return f"in `{head} ...`"


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


__all__ = ["DuckStore"]
