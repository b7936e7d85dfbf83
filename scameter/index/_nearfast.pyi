"""Types of the optional compiled module ``scameter.index._nearfast`` (``_nearfast.c``).

Absent when the package was installed without a C compiler; ``scameter/index/nearmatch.py``
then computes the near probe keys in Python (``variant_hash_stream`` and the filter).
"""

from typing import Any

def filtered_variant_keys(
    namespace: bytes, text: bytes, k: int, prefixes: Any, /
) -> list[bytes] | None: ...
