"""Types of the optional compiled module ``scameter.identifiers._phonefast`` (``_phonefast.c``).

Absent when the package was installed without a C compiler; ``scameter/identifiers/phone.py``
then answers through its pure-Python paths (``typed_hk_python`` is the reference of ``match``).
"""

from scameter.identifiers.model import Identifier, Kind

class TypedHK:
    """The typed-HK-number shortcut: one table of proven-valid 4-digit prefixes."""

    def __init__(
        self,
        identifier_type: type[Identifier],
        kind: Kind,
        prefix_valid: bytes,
        tag: bytes | None = None,
    ) -> None: ...
    def match(self, raw: object, /) -> Identifier | None: ...
    def keyed(self, raw: object, /) -> tuple[Identifier, bytes] | None: ...
