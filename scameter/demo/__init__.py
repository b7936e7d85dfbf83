"""Demo data: a seeded generator of realistic Hong Kong scam reports and official allowlists.

This package only re-exports the public API of :mod:`scameter.demo.generator` (the seeded
reports, allowlist and typed phone numbers behind ``scameter demo``, the tests and the
benchmarks); :mod:`scameter.demo.vocabulary` holds the tables they are drawn from.
``python -m scameter.demo`` rewrites the bundled sample in ``scameter/data/sample/``.
"""

from scameter.demo.generator import (
    ALLOWLIST,
    BANK_CODES,
    CATEGORIES,
    DEFAULT_AS_OF,
    FIXED_PREFIXES,
    MOBILE_PREFIXES,
    SAMPLE_REPORTS,
    SAMPLE_SEED,
    SOURCES,
    STORYLINE,
    allowlist,
    bundled_sample_dir,
    generate,
    phones,
    write_allowlist,
    write_bundled_sample,
    write_sample,
)

__all__ = [
    "ALLOWLIST",
    "BANK_CODES",
    "CATEGORIES",
    "DEFAULT_AS_OF",
    "FIXED_PREFIXES",
    "MOBILE_PREFIXES",
    "SAMPLE_REPORTS",
    "SAMPLE_SEED",
    "SOURCES",
    "STORYLINE",
    "allowlist",
    "bundled_sample_dir",
    "generate",
    "phones",
    "write_allowlist",
    "write_bundled_sample",
    "write_sample",
]
