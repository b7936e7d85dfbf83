"""API key files, roles and token buckets."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.errors import ConfigError
from scameter.rpc.auth import (
    ApiKey,
    KeyStore,
    NoAuth,
    ReloadingKeyStore,
    Role,
    generate_key,
    hash_key,
)
from scameter.rpc.ratelimit import SharedBuckets, TokenBucket
from scameter.rpc.status import Abort

KEY, DIGEST = "sk_test", hash_key("sk_test")


def _meta(key: str | None) -> list[tuple[str, str]]:
    return [] if key is None else [("authorization", f"Bearer {key}")]


def test_key_file_round_trip(tmp_path: Path) -> None:
    key, digest = generate_key()
    path = tmp_path / "keys.toml"
    path.write_text(
        f'[[key]]\nname = "bank"\nsha256 = "{digest}"\nroles = ["payee", "check"]\n'
        "rate = 5\nburst = 10\n",
        encoding="utf-8",
    )
    store = KeyStore.load(path)
    assert len(store) == 1
    assert store.authorize(_meta(key), Role.PAYEE) == "bank"
    with pytest.raises(Abort) as exc:
        store.authorize(_meta(key), Role.BULK)
    assert exc.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert key not in path.read_text(encoding="utf-8")


BAD_FILES = {
    "empty": "",
    "not-toml": "[[key]\n",
    "no-name": f'[[key]]\nsha256 = "{DIGEST}"\nroles = ["check"]\n',
    "short-digest": '[[key]]\nname = "a"\nsha256 = "abc"\nroles = ["check"]\n',
    "non-hex": f'[[key]]\nname = "a"\nsha256 = "{"z" * 64}"\nroles = ["check"]\n',
    "no-roles": f'[[key]]\nname = "a"\nsha256 = "{DIGEST}"\nroles = []\n',
    "bad-role": f'[[key]]\nname = "a"\nsha256 = "{DIGEST}"\nroles = ["root"]\n',
    "bad-rate": f'[[key]]\nname = "a"\nsha256 = "{DIGEST}"\nroles = ["check"]\nrate = -1\n',
    "burst-no-rate": f'[[key]]\nname = "a"\nsha256 = "{DIGEST}"\nroles = ["check"]\nburst = 3\n',
    "unknown-setting": f'[[key]]\nname = "a"\nsha256 = "{DIGEST}"\nroles = ["check"]\nkey = "x"\n',
    "unknown-top": f'x = 1\n[[key]]\nname = "a"\nsha256 = "{DIGEST}"\nroles = ["check"]\n',
    "duplicate": (f'[[key]]\nname = "a"\nsha256 = "{DIGEST}"\nroles = ["check"]\n') * 2,
}


@pytest.mark.parametrize("text", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_key_files_are_config_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path)):
        KeyStore.load(path)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        KeyStore.load(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ([], grpc.StatusCode.UNAUTHENTICATED),
        ([("authorization", "Basic abc")], grpc.StatusCode.UNAUTHENTICATED),
        ([("authorization", "Bearer nope")], grpc.StatusCode.UNAUTHENTICATED),
        (_meta(KEY), None),
    ],
    ids=["none", "wrong-scheme", "unknown", "ok"],
)
def test_authenticate(metadata: list[tuple[str, str]], code: grpc.StatusCode | None) -> None:
    store = KeyStore([ApiKey("a", DIGEST, frozenset({Role.CHECK}))])
    if code is None:
        assert store.authorize(metadata, Role.CHECK) == "a"
    else:
        with pytest.raises(Abort) as exc:
            store.authorize(metadata, Role.CHECK)
        assert exc.value.code is code


@pytest.mark.parametrize("role", list(Role))
def test_admin_has_every_role(role: Role) -> None:
    store = KeyStore([ApiKey("root", DIGEST, frozenset({Role.ADMIN}))])
    assert store.authorize(_meta(KEY), role) == "root"


_ROLE_SETS = [frozenset({r}) for r in Role] + [frozenset({Role.CHECK, Role.PAYEE})]


@pytest.mark.parametrize(
    "held", _ROLE_SETS, ids=["+".join(sorted(r.value for r in s)) for s in _ROLE_SETS]
)
@pytest.mark.parametrize("asked", list(Role), ids=[r.value for r in Role])
def test_authorize_grants_exactly_what_the_key_allows(held: frozenset[Role], asked: Role) -> None:
    """The store's per-digest grants table answers as ``ApiKey.allows`` does."""
    key = ApiKey("k", DIGEST, held)
    store = KeyStore([key])
    if key.allows(asked):
        assert store.authorize(_meta(KEY), asked) == "k"
    else:
        with pytest.raises(Abort) as exc:
            store.authorize(_meta(KEY), asked)
        assert exc.value.code is grpc.StatusCode.PERMISSION_DENIED


def test_no_auth_allows_everything() -> None:
    assert NoAuth().authorize([], Role.ADMIN) == "anonymous"


def test_token_bucket_refills_with_the_clock() -> None:
    now = [0.0]
    b = TokenBucket(rate=2.0, burst=3.0, clock=lambda: now[0])
    assert [b.try_take() for _ in range(4)] == [True, True, True, False]
    assert b.retry_after() == pytest.approx(0.5)
    now[0] += 0.5
    assert b.try_take()
    assert not b.try_take()
    now[0] += 100
    assert [b.try_take() for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0.5)], ids=["no-rate", "tiny-burst"])
def test_token_bucket_validates(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="token bucket"):
        TokenBucket(rate, burst)


def _keys(path: Path, *names: str) -> None:
    path.write_text(
        "".join(
            f'[[key]]\nname = "{n}"\nsha256 = "{hash_key("sk_" + n)}"\nroles = ["check"]\n'
            for n in names
        ),
        encoding="utf-8",
    )


def _code(store: ReloadingKeyStore, name: str) -> grpc.StatusCode | None:
    try:
        store.authorize(_meta("sk_" + name), Role.CHECK)
    except Abort as e:
        return e.code
    return None


def test_reloading_key_store_follows_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.toml"
    _keys(path, "a")
    now = [0.0]
    store = ReloadingKeyStore(path, check_every=1.0, clock=lambda: now[0])
    assert _code(store, "a") is None
    _keys(path, "bb")  # another size: seen by the next stat, once check_every has passed
    assert _code(store, "bb") is grpc.StatusCode.UNAUTHENTICATED  # not checked yet
    now[0] = 1.5
    assert _code(store, "bb") is None
    assert _code(store, "a") is grpc.StatusCode.UNAUTHENTICATED
    # A broken file keeps the keys in force and says why.
    path.write_text("not toml [", encoding="utf-8")
    store.request_reload()
    assert _code(store, "bb") is None
    assert "API key file not reloaded" in caplog.text
    # request_reload (SIGHUP) re-reads at once, without waiting for check_every.
    _keys(path, "cc")
    store.request_reload()
    assert _code(store, "cc") is None


def test_shared_buckets_are_shared_across_a_fork() -> None:
    table = SharedBuckets(slots=8, clock=lambda: 100.0)
    digest = hash_key("sk_x")
    assert table.bucket(digest, 0.001, 3).try_take()
    pid = os.fork()
    if pid == 0:  # the child takes the two tokens left
        ok = [table.bucket(digest, 0.001, 3).try_take() for _ in range(2)]
        os._exit(0 if ok == [True, True] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    bucket = table.bucket(digest, 0.001, 3)
    assert not bucket.try_take()
    assert bucket.retry_after() == pytest.approx(1000.0)


def test_shared_buckets_refuse_more_keys_than_slots() -> None:
    table = SharedBuckets(slots=2)
    table.bucket(hash_key("a"), 1, 1)
    table.bucket(hash_key("b"), 1, 1)
    with pytest.raises(ValueError, match="more than 2 rate-limited API keys"):
        table.bucket(hash_key("c"), 1, 1)


# -- remembered keys (auth.py's invariants: each key hashed once per worker) ----------------


def _reference(
    keys: list[ApiKey], metadata: Sequence[tuple[str, str | bytes]], role: Role
) -> object:
    """What authorize answers, by the rules alone: the first authorization value naming a
    key is the call's key; its SHA-256 must be a configured digest holding ``role``."""
    token = None
    for name, value in metadata:
        if name == "authorization" and isinstance(value, str):
            scheme, _, rest = value.partition(" ")
            if scheme.lower() == "bearer" and rest:
                token = rest.strip()
                break
    if token is None:
        return grpc.StatusCode.UNAUTHENTICATED
    key = next((k for k in keys if k.sha256 == hash_key(token)), None)
    if key is None:
        return grpc.StatusCode.UNAUTHENTICATED
    return key.name if key.allows(role) else grpc.StatusCode.PERMISSION_DENIED


def _answer(store: KeyStore, metadata: Sequence[tuple[str, str | bytes]], role: Role) -> object:
    try:
        return store.authorize(metadata, role)
    except Abort as e:
        return e.code


_SPELLINGS = ["Bearer sk_a", "bearer sk_a", "Bearer  sk_a ", "BEARER sk_b", "Bearer sk_b",
              "Bearer sk_zzz", "Bearer ", "Basic sk_a", "sk_a", "Bearer sk_a x", ""]  # fmt: skip
_ENTRIES = st.one_of(
    st.tuples(st.just("authorization"), st.sampled_from(_SPELLINGS)),
    st.tuples(st.just("authorization"), st.just(b"Bearer sk_a")),
    st.tuples(st.sampled_from(["user-agent", "x-authorization"]), st.sampled_from(_SPELLINGS)),
)


@settings(max_examples=200, deadline=None)
@given(calls=st.lists(st.tuples(st.lists(_ENTRIES, max_size=3), st.sampled_from(list(Role)))))
def test_remembered_keys_answer_as_the_rules(
    calls: list[tuple[list[tuple[str, str | bytes]], Role]],
) -> None:
    """Any sequence of calls (so remembered values are probed before hashing) answers as
    the rules do, call for call; at most one value a key is remembered."""
    keys = [
        ApiKey("a", hash_key("sk_a"), frozenset({Role.CHECK})),
        ApiKey("b", hash_key("sk_b"), frozenset({Role.ADMIN})),
    ]
    store = KeyStore(keys)
    for metadata, role in calls:
        assert _answer(store, metadata, role) == _reference(keys, metadata, role)
    assert set(store._seen) <= {"Bearer sk_a", "Bearer sk_b"}


def test_unknown_and_odd_keys_are_not_remembered() -> None:
    """Only a key that verified, in its one canonical spelling, is remembered: a flood of
    unknown keys (or of spellings of a known one) cannot grow the table."""
    store = KeyStore([ApiKey("a", DIGEST, frozenset({Role.CHECK}))])
    for i in range(1000):
        _answer(store, _meta(f"sk_unknown_{i}"), Role.CHECK)
        _answer(store, [("authorization", f"bearer {KEY}" + " " * (i % 7))], Role.CHECK)
    assert store._seen == {}
    assert store.authorize(_meta(KEY), Role.CHECK) == "a"
    assert list(store._seen) == [f"Bearer {KEY}"]


def test_a_remembered_key_keeps_its_roles_and_rate() -> None:
    now = [0.0]
    store = KeyStore([ApiKey("a", DIGEST, frozenset({Role.CHECK}), 1.0, 2.0)], clock=lambda: now[0])
    assert [_answer(store, _meta(KEY), Role.CHECK) for _ in range(3)] == [
        "a",
        "a",
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ]
    assert _answer(store, _meta(KEY), Role.PAYEE) is grpc.StatusCode.PERMISSION_DENIED
    now[0] += 1.0
    assert _answer(store, _meta(KEY), Role.CHECK) == "a"


@pytest.mark.parametrize("how", ["sighup", "file-change"])
def test_a_revoked_key_is_refused_after_a_reload(tmp_path: Path, how: str) -> None:
    """A key remembered before the reload is refused from the reload on (the remembered
    values go with the key table)."""
    path = tmp_path / "keys.toml"
    _keys(path, "a", "b")
    now = [0.0]
    store = ReloadingKeyStore(path, check_every=1.0, clock=lambda: now[0])
    assert _code(store, "a") is None  # remembered now
    assert _code(store, "a") is None
    _keys(path, "b")  # "a" revoked
    if how == "sighup":
        store.request_reload()
    else:
        now[0] = 1.5
    assert _code(store, "a") is grpc.StatusCode.UNAUTHENTICATED
    assert _code(store, "b") is None
