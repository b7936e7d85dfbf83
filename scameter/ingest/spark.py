"""The Spark engine of out-of-core aggregation (``scameter ingest --engine spark``).

Responsibility: stage one of :mod:`scameter.ingest.ooc_sql` on Apache Spark. The admitted
events (DuckDB tables ``ev``, ``li``, ``ap``) are written as Parquet into the exchange
directory, Spark runs the same SQL text with ``spark.sql`` and writes ``agg0``, ``cs0`` and
``grp`` as Parquet, which the run's DuckDB store adopts for stage two (links, clusters,
decisions, records: the same code as the DuckDB engine, so the same snapshot).

The exchange directory is the run's work directory by default (local mode); for a cluster
it must be storage every executor reads (``--spark-dir``). This file also runs on its own
under ``spark-submit`` (docs/operations.md)::

    spark-submit --master spark://host:7077 scameter/ingest/spark.py \\
        /shared/run/events /shared/run/out --as-of 1764979200 --public-start 1749427200

Invariant: the optional ``pyspark`` import happens only here; a missing pyspark or Java is
one clear :class:`~scameter.errors.IngestError`.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from scameter.errors import IngestError
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.duck import DuckStore
from scameter.ingest.ooc_sql import OUTPUTS, stage_one

_SESSIONS: dict[str, Any] = {}


def session(master: str) -> Any:
    """A Spark session on ``master`` (kept for the life of the process: start-up costs
    seconds)."""
    got = _SESSIONS.get(master)
    if got is not None:
        return got
    try:
        from pyspark.sql import SparkSession  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise IngestError(
            "--engine spark needs the spark extra: pip install 'scameter[spark]'"
        ) from None
    if shutil.which("java") is None:
        raise IngestError("--engine spark needs a Java runtime (java not found on PATH)")
    spark = (
        SparkSession.builder.master(master)
        .appName("scameter-ingest")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    _SESSIONS[master] = spark
    return spark


def run_stage_one(spark: Any, events: Path, out: Path, *, as_of: int, public_start: int) -> None:
    """Read ``events/{ev,li,ap}.parquet``, write ``out/{agg0,cs0,grp}/*.parquet``."""
    for table in ("ev", "li", "ap"):
        spark.read.parquet(str(events / f"{table}.parquet")).createOrReplaceTempView(table)
    for name, sql in stage_one("spark", as_of=as_of, public_start=public_start).items():
        df = spark.sql(sql)
        if name in OUTPUTS:
            df.write.mode("overwrite").parquet(str(out / name))
        else:
            df.createOrReplaceTempView(name)


def aggregate_on_spark(
    store: DuckStore, workdir: Path, agg: Aggregator, master: str, shared: Path | None = None
) -> None:
    """Stage one on Spark for the events in ``store``; its results back into ``store``."""
    base = shared if shared is not None else workdir
    events, out = base / "events", base / "out"
    events.mkdir(parents=True, exist_ok=True)
    for table in ("ev", "li", "ap"):
        path = str(events / f"{table}.parquet").replace("'", "''")
        store.con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
        store.con.execute(f"DROP TABLE {table}")
    spark = session(master)
    run_stage_one(spark, events, out, as_of=agg.as_of_ts, public_start=agg.public_start)
    store.adopt_parquet(out)
    if shared is not None:
        shutil.rmtree(events, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``spark-submit spark.py EVENTS OUT --as-of SECONDS --public-start SECONDS``."""
    ap = argparse.ArgumentParser(description="scameter ingest stage one on Spark")
    ap.add_argument("events", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--as-of", type=int, required=True)
    ap.add_argument("--public-start", type=int, required=True)
    args = ap.parse_args(argv)
    from pyspark.sql import SparkSession  # type: ignore[import-not-found, unused-ignore]

    spark = SparkSession.builder.appName("scameter-ingest").getOrCreate()
    run_stage_one(spark, args.events, args.out, as_of=args.as_of, public_start=args.public_start)
    spark.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover - run by spark-submit
    raise SystemExit(main())


__all__ = ["aggregate_on_spark", "main", "run_stage_one", "session"]
