"""API key files, roles and token buckets."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from scameter.errors import ConfigError
from scameter.rpc.auth import ApiKey, KeyStore, NoAuth, Role, generate_key, hash_key
from scameter.rpc.ratelimit import TokenBucket
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
