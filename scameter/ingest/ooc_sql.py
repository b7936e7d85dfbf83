"""The SQL of out-of-core aggregation, one text for DuckDB and Spark SQL.

Responsibility: the query texts that turn the event tables written by
:class:`scameter.ingest.ooc.EventFiles` into one aggregate row per identifier (what
:class:`~scameter.ingest.aggregate.Aggregator` keeps in its arrays), the latest case ids per
identifier and the co-reported identifier groups. They are plain SQL (``GROUP BY``,
``CASE``, ``bit_or``, ``min_by``, ``row_number() OVER``) that DuckDB and Spark SQL both run
unchanged; :func:`stage_one` takes the dialect anyway so that a difference has one place.

Tables (the engine names them so):

* ``ev``: one row per (counted report, distinct identifier it names): ``rs`` (row sequence:
  input order), ``rp`` (report number), ``k`` (plain key), ``t`` (1: named with ``~``), ``ts``
  (Unix seconds, -1: undated), ``fl`` (the aggregator's ``F_*`` flag), ``sb`` (source bit),
  ``cb`` (category bit), ``rep`` (public reporter or provider number), ``cid`` (case id).
* ``li``: allow (``op`` 1, owner ``ow``) and delist (``op`` 2, time ``dt``) rows, with ``rs``,
  ``k`` and ``t`` as above.
* ``ap``: appeals ``(k, who, ts)``.

Invariant: every aggregate is a function of the multiset of rows plus, where the in-memory
path depends on the order (which form of a key came first, the first allow row's owner), of
``rs``: both engines give the same rows as the in-memory aggregator.
"""

from __future__ import annotations

from scameter.ingest.aggregate import (
    F_CORROBORATE,
    F_PARTNER_CONF,
    F_POLICE_CONF,
    F_PUBLIC,
    MAX_CASE_IDS,
)

DIALECTS = ("duckdb", "spark")

EV_COLUMNS = (
    ("rs", "BIGINT"),
    ("rp", "BIGINT"),
    ("k", "VARCHAR"),
    ("t", "INTEGER"),
    ("ts", "BIGINT"),
    ("fl", "INTEGER"),
    ("sb", "INTEGER"),
    ("cb", "BIGINT"),
    ("rep", "BIGINT"),
    ("cid", "VARCHAR"),
)
LI_COLUMNS = (
    ("rs", "BIGINT"),
    ("k", "VARCHAR"),
    ("t", "INTEGER"),
    ("op", "INTEGER"),
    ("ow", "VARCHAR"),
    ("dt", "BIGINT"),
)
AP_COLUMNS = (("k", "VARCHAR"), ("who", "VARCHAR"), ("ts", "BIGINT"))
#: The columns of an aggregate row, in the order :func:`stage_one` selects them.
AGG_COLUMNS = (
    "k", "bad", "n", "fl", "sb", "cb", "fts", "lts", "lpol", "lpar", "reps", "provs", "cn",
    "owner", "dat", "rn", "rf", "rl", "np",
)  # fmt: skip


#: The tables of :func:`stage_one` that stage two reads (the others are intermediate).
OUTPUTS = ("agg0", "cs0", "grp")
#: The table of :func:`per_identifier` in :func:`stage_one`.
PER_IDENTIFIER = "agg1"


def stage_one(dialect: str, *, as_of: int, public_start: int) -> dict[str, str]:
    """``{table: query}`` of the per-identifier stage, in dependency order (each query may
    read the tables before it); the outputs: ``agg0`` (one row per identifier,
    :data:`AGG_COLUMNS`), ``cs0`` (the latest :data:`MAX_CASE_IDS` case ids per identifier:
    ``k, ts, cid``) and ``grp`` (``rp, k`` of every report naming two or more identifiers).
    Its ``agg1`` (:data:`PER_IDENTIFIER`) is :func:`per_identifier` of all keys; an engine
    may build that table in parts instead (:func:`per_identifier` with a key filter)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    agg1 = per_identifier(as_of=as_of, public_start=public_start)
    cs = f"""
SELECT k, ts, cid FROM (
  SELECT k, ts, cid, row_number() OVER (PARTITION BY k ORDER BY ts DESC, cid DESC) AS pos
  FROM (SELECT k, cid, max(ts) AS ts FROM ev WHERE cid IS NOT NULL GROUP BY k, cid) c
) x WHERE pos <= {MAX_CASE_IDS}
"""
    grp = """
SELECT ev.rp AS rp, ev.k AS k FROM ev
WHERE ev.rp IN (SELECT rp FROM ev GROUP BY rp HAVING count(*) > 1)
"""
    # Owners apart (string aggregate states do not spill; allow rows are few), joined to
    # the large side by a hash join whose build side is the small one.
    owners = """
SELECT k, CASE WHEN min_by(coalesce(ow, ''), rs) = '' THEN ''
               ELSE min(CASE WHEN ow <> '' THEN ow END) END AS owner
FROM li WHERE op = 1 GROUP BY k
"""
    cols = ", ".join(f"a.{c}" for c in AGG_COLUMNS if c != "owner")
    joined = f"SELECT {cols}, o.owner AS owner FROM agg1 a LEFT JOIN owners o ON o.k = a.k"
    return {"owners": owners, PER_IDENTIFIER: agg1, "agg0": joined, "cs0": cs, "grp": grp}


def per_identifier(*, as_of: int, public_start: int, key_filter: str = "TRUE") -> str:
    """The per-identifier aggregate (``agg1``: :data:`AGG_COLUMNS` but ``owner``) of the
    keys ``k`` for which the SQL condition ``key_filter`` holds, in both dialects. The
    filter is written into every source, because the engines do not push a condition on
    ``k`` through the ``HAVING`` into the ``UNION ALL``: a part reads and groups only its
    own keys, and the parts of a partition of the keys give the rows of the whole."""
    conf = f"{F_POLICE_CONF}, {F_PARTNER_CONF}"
    # One GROUP BY over a UNION ALL of facts (no join of large tables: a hash aggregate
    # spills under a memory limit where a chain of hash joins may not). Facts: ``src`` 0 a
    # report row, 1 an allow / delist row, 2 a distinct (reporter or provider, identifier),
    # 3 a confirmed report after the identifier's delisting, 4 the delisting time, 5 a
    # distinct appealing reporter within the public window.
    nv, nb = "CAST(NULL AS STRING)", "CAST(NULL AS BIGINT)"  # STRING: both dialects
    return f"""
WITH d AS (
  SELECT k, max(CASE WHEN dt = -1 THEN {as_of} ELSE dt END) AS dat
  FROM li WHERE op = 2 AND {key_filter} GROUP BY k
), f AS (
  SELECT k, 0 AS src, rs, t, fl, sb, cb, ts, CASE WHEN cid IS NULL THEN 0 ELSE 1 END AS c,
         0 AS w, 0 AS op, {nv} AS ow, {nb} AS dat, {nb} AS rts, {nv} AS who
  FROM ev WHERE {key_filter}
  UNION ALL
  SELECT k, 1, rs, t, 0, 0, 0, -1, 0, 0, op, ow, {nb}, {nb}, {nv} FROM li WHERE {key_filter}
  UNION ALL
  SELECT k, 2, {nb}, 0, 0, 0, 0, -1, 0, w, 0, {nv}, {nb}, {nb}, {nv} FROM (
    SELECT DISTINCT k, rep,
           CASE WHEN fl = {F_PUBLIC} THEN 1 ELSE 2 END AS w
    FROM ev WHERE (fl = {F_PUBLIC} OR (fl & {F_CORROBORATE}) <> 0) AND {key_filter}
  ) x
  UNION ALL
  SELECT ev.k, 3, {nb}, 0, 0, 0, 0, -1, 0, 0, 0, {nv}, {nb}, ev.ts, {nv}
  FROM ev JOIN d ON ev.k = d.k WHERE ev.fl IN ({conf}) AND ev.ts > d.dat
  UNION ALL
  SELECT k, 4, {nb}, 0, 0, 0, 0, -1, 0, 0, 0, {nv}, dat, {nb}, {nv} FROM d
  UNION ALL
  SELECT DISTINCT k, 5, {nb}, 0, 0, 0, 0, -1, 0, 0, 0, {nv}, {nb}, {nb}, who
  FROM ap WHERE ts >= {public_start} AND ts <= {as_of} AND {key_filter}
)
SELECT k,
  min_by(t, rs) AS bad,
  sum(CASE WHEN src = 0 THEN 1 ELSE 0 END) AS n,
  bit_or(fl) AS fl, bit_or(sb) AS sb, bit_or(cb) AS cb,
  coalesce(min(CASE WHEN src = 0 AND ts <> -1 THEN ts END), -1) AS fts,
  coalesce(max(CASE WHEN src = 0 AND ts <> -1 THEN ts END), -1) AS lts,
  coalesce(max(CASE WHEN src = 0 AND fl = {F_POLICE_CONF} THEN ts END), -1) AS lpol,
  coalesce(max(CASE WHEN src = 0 AND fl = {F_PARTNER_CONF} THEN ts END), -1) AS lpar,
  sum(CASE WHEN src = 2 AND w = 1 THEN 1 ELSE 0 END) AS reps,
  sum(CASE WHEN src = 2 AND w = 2 THEN 1 ELSE 0 END) AS provs,
  sum(c) AS cn,
  max(dat) AS dat,
  count(rts) AS rn, min(rts) AS rf, max(rts) AS rl,
  count(who) AS np
FROM f GROUP BY k
HAVING max(CASE WHEN src <= 1 THEN 1 ELSE 0 END) = 1
"""


def ranked(source: str) -> str:
    """The aggregate rows of ``source`` with their record position ``rank`` (key order)."""
    return f"SELECT row_number() OVER (ORDER BY k) - 1 AS rank, * FROM {source}"


def report_groups(max_linked: int) -> str:
    """``(rp, rank)`` of every report naming 2 to ``max_linked`` identifiers, by report."""
    return f"""
SELECT g.rp, a.rank FROM grp g JOIN agg a ON a.k = g.k
WHERE g.rp IN (SELECT rp FROM grp GROUP BY rp HAVING count(*) <= {max_linked})
ORDER BY g.rp, a.rank
"""


def domain_groups(hub: int) -> str:
    """``(link, rank)`` of the identifiers sharing a host-level listing (table ``lk``), for
    links of 2 to ``hub`` identifiers none of which is allowlisted, by link."""
    return f"""
SELECT x.link, x.rank FROM lk x WHERE x.link IN (
  SELECT lk.link FROM lk JOIN agg ON agg.rank = lk.rank GROUP BY lk.link
  HAVING count(*) >= 2 AND count(*) <= {hub}
     AND max(CASE WHEN agg.owner IS NULL THEN 0 ELSE 1 END) = 0)
ORDER BY x.link, x.rank
"""


def domain_index(hub: int) -> str:
    """``(link, n, allowed, ik)`` rows of the domain-link index (table ``lk``: ``rank,
    link, ik``, the identifier key as an unsigned integer): per link its ``n`` identifiers
    and ``allowed`` (1: one is allowlisted), one row per identifier (``ik``) for a link of at
    most ``hub`` identifiers none of which is allowlisted, else one row with ``ik`` NULL;
    by link. A ``GROUP BY`` and a sort that spill: no Python state per link."""
    return f"""
WITH o AS (SELECT rank FROM agg WHERE owner IS NOT NULL),
g AS (
  SELECT lk.link AS link, count(*) AS n, count(o.rank) AS a
  FROM lk LEFT JOIN o ON o.rank = lk.rank GROUP BY lk.link
)
SELECT g.link, g.n, CASE WHEN g.a > 0 THEN 1 ELSE 0 END AS allowed, x.ik
FROM g LEFT JOIN lk x ON x.link = g.link AND g.n <= {hub} AND g.a = 0
ORDER BY g.link
"""


DERIVED_PAIRS = """
SELECT dk.rank, agg.rank FROM dk JOIN agg ON agg.k = dk.k2 WHERE agg.rank <> dk.rank
ORDER BY dk.rank, agg.rank
"""


__all__ = [
    "AGG_COLUMNS",
    "AP_COLUMNS",
    "DERIVED_PAIRS",
    "DIALECTS",
    "EV_COLUMNS",
    "LI_COLUMNS",
    "OUTPUTS",
    "PER_IDENTIFIER",
    "domain_groups",
    "domain_index",
    "per_identifier",
    "ranked",
    "report_groups",
    "stage_one",
]
