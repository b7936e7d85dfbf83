"""The optional compiled parts (issue 20); everything else is in pyproject.toml.

``scameter.index._speedups`` (``scameter/index/_speedups.c``, the hit path),
``scameter.index._nearfast`` (``scameter/index/_nearfast.c``, the near-match probe keys),
``scameter.identifiers._phonefast`` (``scameter/identifiers/_phonefast.c``, the typed-HK-number
shortcut; its own module, as identifiers import nothing of the index),
``scameter.ingest._rowscan`` (``scameter/ingest/_rowscan.c``, the plain-report JSONL row scanner
of ingest, issue 21), ``scameter.ingest._rowsfast`` (``scameter/ingest/_rowsfast.c``, the
parse workers' table rows and evidence, issue 21) and ``scameter.index._recordsfast``
(``scameter/index/_recordsfast.c``, the loops of a snapshot build, issue 21) use the CPython C
API and no dependency beyond the Python headers. Each is built when a C compiler is found and
skipped otherwise:
``optional=True`` turns a failed compile into a warning, so ``pip install .`` works on a
machine with nothing but Python, and the package then answers through its pure-Python paths
(docs/architecture.md, "The compiled hit path").
"""

from setuptools import Extension, setup

#: Included by the sources (the slot-offset check of the dataclasses they fill; XXH3-64; the
#: typed HK number).
_HEADERS = ["scameter/_slot_offsets.h", "scameter/_xxh3.h", "scameter/_hkphone.h"]

setup(
    ext_modules=[
        Extension(
            "scameter.index._speedups",
            sources=["scameter/index/_speedups.c"],
            depends=_HEADERS,
            optional=True,
        ),
        Extension(
            "scameter.index._nearfast",
            sources=["scameter/index/_nearfast.c"],
            depends=_HEADERS,
            optional=True,
        ),
        Extension(
            "scameter.identifiers._phonefast",
            sources=["scameter/identifiers/_phonefast.c"],
            depends=_HEADERS,
            optional=True,
        ),
        Extension(
            "scameter.index._recordsfast",
            sources=["scameter/index/_recordsfast.c"],
            optional=True,
        ),
        Extension(
            "scameter.ingest._rowscan",
            sources=["scameter/ingest/_rowscan.c"],
            depends=_HEADERS,
            optional=True,
        ),
        Extension(
            "scameter.ingest._rowsfast",
            sources=["scameter/ingest/_rowsfast.c"],
            depends=_HEADERS,
            optional=True,
        ),
    ]
)
