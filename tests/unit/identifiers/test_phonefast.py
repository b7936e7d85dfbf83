"""The typed-HK-number shortcut: vectors on both implementations, and both paths of the callers.

``scameter.identifiers._phonefast`` (C) answers valid HK numbers typed in common spellings
before ``normalize_phone`` and ``detect`` run their Python; it must be built on CI
(``SCAMETER_REQUIRE_SYSTEM_TOOLS``, set by ``.ci/run``), and without it the pure paths answer
alone (``phone.TYPED_HK_PATH``).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

from scameter.identifiers import Identifier, Kind, detect
from scameter.identifiers.detect import _detect
from scameter.identifiers.phone import (
    TYPED_HK_PATH,
    normalize_phone,
    normalize_phone_slow,
    typed_hk_compiled,
    typed_hk_keyed,
    typed_hk_keyed_python,
    typed_hk_python,
)

# The module, not the function of the same name the package re-exports.
detect_module = importlib.import_module("scameter.identifiers.detect")
phone_module = importlib.import_module("scameter.identifiers.phone")
REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
needs_compiled = pytest.mark.skipif(
    TYPED_HK_PATH != "compiled" and not REQUIRED,
    reason="scameter.identifiers._phonefast is not built here (no C compiler at install time)",
)

#: (input, the shortcut's value or None when it declines).
VECTORS = [
    ("+85291234567", "+85291234567"),
    ("+852 9123 4567", "+85291234567"),
    ("+852-9123-4567", "+85291234567"),
    ("(852) 9123 4567", "+85291234567"),
    ("852 9123 4567", "+85291234567"),
    ("85291234567", "+85291234567"),
    ("91234567", "+85291234567"),
    ("9123 4567", "+85291234567"),
    ("9123-4567", "+85291234567"),
    ("6391 2745", "+85263912745"),
    ("+852 6391 2745", "+85263912745"),
    ("(9123) 4567", "+85291234567"),
    ("+91234567", None),  # '+' and 8 digits: another country code
    ("01234567", None),  # leading 0: international prefix
    ("+852 0123 4567", None),
    ("85212345", None),  # 8 digits starting 852: the parser's country-code rule
    ("9123 4567 ", None),  # ends with a separator
    ("9123.4567", None),  # '.' is left to the full path
    ("9123 456７", None),  # full-width digit: not ASCII
    ("9123 456\u0667", None),  # Arabic-Indic digit
    ("9123 4567 ext", None),
    ("912345678", None),  # 9 digits: FPS ID first
    ("+852 9123 45678", None),
    ("+852 9123 456", None),
    ("00852 9123 4567", None),
    ("(+852) 9123 4567", None),  # '+' not first
    ("+852 91234567" + " " * 7, None),  # over 20 characters
    ("", None),
    ("x", None),
    ("tel:+85291234567", None),
]
IDS = [repr(raw) for raw, _ in VECTORS]


def _shortcuts() -> list[object]:
    return [
        pytest.param(typed_hk_python, id="python"),
        pytest.param(typed_hk_compiled, id="compiled", marks=needs_compiled),
    ]


@needs_compiled
def test_compiled_shortcut_is_built() -> None:
    """Fails on CI (``SCAMETER_REQUIRE_SYSTEM_TOOLS``) when ``pip install -e .`` did not build
    the extension, so the compiled shortcut is never silently left untested."""
    from scameter.identifiers import _phonefast

    assert TYPED_HK_PATH == "compiled"
    assert typed_hk_compiled is not None
    assert _phonefast.TypedHK.__module__ == "scameter.identifiers._phonefast"


@pytest.mark.parametrize("shortcut", _shortcuts())
@pytest.mark.parametrize(("raw", "value"), VECTORS, ids=IDS)
def test_shortcut_vectors(
    shortcut: Callable[[object], Identifier | None], raw: str, value: str | None
) -> None:
    got = shortcut(raw)
    assert got == (None if value is None else Identifier(Kind.PHONE, value, True))


@pytest.mark.parametrize("shortcut", _shortcuts())
@pytest.mark.parametrize("raw", [None, b"91234567", 91234567, ["91234567"]], ids=repr)
def test_shortcut_declines_what_is_not_text(
    shortcut: Callable[[object], Identifier | None], raw: object
) -> None:
    assert shortcut(raw) is None


class _Str(str):
    pass


@pytest.mark.parametrize("shortcut", _shortcuts())
def test_shortcut_declines_a_str_subclass(
    shortcut: Callable[[object], Identifier | None],
) -> None:
    assert shortcut(_Str("91234567")) is None
    assert normalize_phone(_Str("91234567")) == Identifier(Kind.PHONE, "+85291234567", True)


@pytest.fixture(params=["python", pytest.param("compiled", marks=needs_compiled)])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which path answers ``normalize_phone`` and ``detect``: without the compiled shortcut
    the module globals are what an install without a C compiler has."""
    if request.param == "python":
        monkeypatch.setattr(phone_module, "typed_hk_compiled", None)
        monkeypatch.setattr(detect_module, "typed_hk_compiled", None)
    else:
        assert phone_module.typed_hk_compiled is not None
    return str(request.param)


@pytest.mark.parametrize(("raw", "value"), VECTORS, ids=IDS)
def test_callers_answer_alike_on_both_paths(path: str, raw: str, value: str | None) -> None:
    try:
        expected: Identifier | None = normalize_phone_slow(raw)
    except ValueError:
        expected = None
    try:
        got: Identifier | None = normalize_phone(raw)
    except ValueError:
        got = None
    assert got == expected
    found = detect(raw)
    assert found == _detect(raw)  # the rule dispatch alone, no fast path of either kind
    if value is not None:
        assert found == [Identifier(Kind.PHONE, value, True)]


@needs_compiled
def test_typed_hk_refuses_a_type_of_another_layout() -> None:
    from scameter.identifiers._phonefast import TypedHK

    class Other:
        __slots__ = ("kind", "value")

    table = bytes(10_000)
    with pytest.raises(TypeError, match="slots"):
        TypedHK(Other, Kind.PHONE, table)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="10000"):
        TypedHK(Identifier, Kind.PHONE, table[:-1])
    # An instance whose __init__ never ran declines everything rather than crashing.
    assert TypedHK.__new__(TypedHK).match("91234567") is None
    # A table proving no prefix valid: the shortcut declines every number.
    assert TypedHK(Identifier, Kind.PHONE, table).match("91234567") is None


@pytest.mark.parametrize(("raw", "value"), VECTORS, ids=[v[0] for v in VECTORS])
def test_keyed_gives_the_identifier_and_its_key(raw: str, value: str | None) -> None:
    """``keyed``: ``match``'s identifier with :attr:`Identifier.key` (the xxhash package's
    XXH3-64), on both implementations."""
    keyed: list[Callable[[str], tuple[Identifier, bytes] | None]] = [typed_hk_keyed_python]
    if typed_hk_keyed is not None:
        keyed.append(typed_hk_keyed)
    for fn in keyed:
        got = fn(raw)
        if value is None:
            assert got is None
            continue
        assert got is not None
        ident, key = got
        assert ident == Identifier(Kind.PHONE, value, True)
        assert key == Identifier(Kind.PHONE, value).key
        assert len(key) == 8


@needs_compiled
def test_keyed_needs_the_tag() -> None:
    from scameter.identifiers._phonefast import TypedHK

    table = phone_module._prefix_valid_table()
    assert TypedHK(Identifier, Kind.PHONE, table).keyed("91234567") is None  # no tag given
    assert TypedHK(Identifier, Kind.PHONE, table).match("91234567") is not None
    for bad in (b"", b"\x01\x02", "x"):
        with pytest.raises(ValueError, match="one byte"):
            TypedHK(Identifier, Kind.PHONE, table, bad)  # type: ignore[arg-type]
    assert TypedHK.__new__(TypedHK).keyed("91234567") is None  # __init__ never ran


def test_without_the_extension_the_python_paths_answer() -> None:
    """In a process where ``scameter.identifiers._phonefast`` cannot be imported (an install
    without a C compiler): the pure paths are chosen at import and answer the same."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["scameter.identifiers._phonefast"] = None  # as if built without a compiler
        from scameter.identifiers import detect
        from scameter.identifiers.phone import TYPED_HK_PATH, normalize_phone, typed_hk_compiled
        print(TYPED_HK_PATH, typed_hk_compiled is None)
        print(normalize_phone("+852 9123 4567").value, detect("(852) 9123-4567")[0].value)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["python", "True", "+85291234567", "+85291234567"]
