"""Demo data: a seeded generator of realistic Hong Kong scam reports and official allowlists.

This package only re-exports the public API of :mod:`scameter.demo.generator` (the seeded
reports, allowlist and typed phone numbers behind ``scameter demo``, the tests and the
benchmarks).
"""

from scameter.demo.generator import (
    ALLOWLIST,
    BANK_CODES,
    CATEGORIES,
    DEFAULT_AS_OF,
    FIXED_PREFIXES,
    MOBILE_PREFIXES,
    SOURCES,
    STORYLINE,
    allowlist,
    bundled_sample_dir,
    generate,
    phones,
    write_allowlist,
    write_sample,
)

__all__ = [
    "ALLOWLIST",
    "BANK_CODES",
    "CATEGORIES",
    "DEFAULT_AS_OF",
    "FIXED_PREFIXES",
    "MOBILE_PREFIXES",
    "SOURCES",
    "STORYLINE",
    "allowlist",
    "bundled_sample_dir",
    "generate",
    "phones",
    "write_allowlist",
    "write_sample",
]
