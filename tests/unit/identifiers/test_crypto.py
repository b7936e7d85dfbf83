"""Vector tables for crypto wallets.

Sources of the vectors:

* EIP-55 (https://eips.ethereum.org/EIPS/eip-55, "Test Cases"): all-caps, all-lower and
  mixed-case checksummed addresses.
* BIP-173 (https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki, "Test vectors") and
  BIP-350 (https://github.com/bitcoin/bips/blob/master/bip-0350.mediawiki, "Test vectors for
  Bech32m" and "Test vectors for v0-v16 native segregated witness addresses"): the mainnet
  (``bc``) rows; testnet (``tb``) rows are invalid here because only mainnet is accepted.
* Base58check: the genesis block coinbase address ``1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa`` and the
  BIP-13/16 era P2SH example ``3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy``; Tron: the USDT TRC-20
  contract address ``TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t``.
"""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import normalize
from scameter.identifiers.crypto import (
    b58check_encode,
    b58check_payload,
    b58decode,
    b58encode,
    bech32_decode,
    eip55_checksum,
)

EIP55_MIXED = [
    "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
EIP55_SINGLE_CASE = [
    "52908400098527886E0F7030069857D2E4169EE7",
    "8617E340B3D01FA5F11F306F4090FD50E238070D",
    "de709f2102306220921060314715629080e2fb77",
    "27b1fdb04752bbc536007a920d24acb045561c26",
]


@pytest.mark.parametrize("hex40", EIP55_MIXED, ids=EIP55_MIXED)
def test_eip55_checksum_reproduces_the_spec(hex40: str) -> None:
    assert eip55_checksum(hex40.lower()) == hex40
    assert normalize("crypto_wallet", "0x" + hex40).value == "ethereum:0x" + hex40.lower()


@pytest.mark.parametrize("hex40", EIP55_SINGLE_CASE, ids=EIP55_SINGLE_CASE)
def test_single_case_addresses_need_no_checksum(hex40: str) -> None:
    assert normalize("crypto_wallet", "eth:0x" + hex40).value == "ethereum:0x" + hex40.lower()


def test_a_broken_eip55_checksum_is_rejected() -> None:
    bad = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"  # last letter case flipped
    with pytest.raises(InvalidIdentifier, match="EIP-55"):
        normalize("crypto_wallet", bad)


BECH32_VALID_STRINGS = [  # BIP-173 valid Bech32, BIP-350 valid Bech32m
    "A12UEL5L",
    "a12uel5l",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "A1LQFN3A",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
]


@pytest.mark.parametrize("text", BECH32_VALID_STRINGS, ids=BECH32_VALID_STRINGS)
def test_bech32_checksums_of_the_bips(text: str) -> None:
    assert bech32_decode(text) is not None


BECH32_INVALID_STRINGS = ["qyrz8wqd2c9m", "1qyrz8wqd2c9m", "y1b0jsk6g", "in1muywd", "M1VUXWEZ"]


@pytest.mark.parametrize("text", BECH32_INVALID_STRINGS, ids=BECH32_INVALID_STRINGS)
def test_bech32_invalid_strings_of_bip350(text: str) -> None:
    assert bech32_decode(text) is None


WALLETS_VALID = [
    (
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        "bitcoin:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "bitcoin:bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
    ),
    ("BC1SW50QGDZ25J", "bitcoin:bc1sw50qgdz25j"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "bitcoin:bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "bitcoin:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    ),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    ("btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "bitcoin:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
    (
        "bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa?amount=0.1",
        "bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    ),
    ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
    ("trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
    (
        "bsc:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "ethereum:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    ),
]


@pytest.mark.parametrize(
    ("raw", "canonical"), WALLETS_VALID, ids=[v[0][:30] for v in WALLETS_VALID]
)
def test_wallet_canonical(raw: str, canonical: str) -> None:
    ident = normalize("crypto_wallet", raw)
    assert ident.value == canonical
    assert normalize("crypto_wallet", ident.value) == ident


WALLETS_INVALID = [  # BIP-350 invalid segwit addresses (bc rows) and base58 corruptions
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "bc1gmk9yu",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
    "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
    "0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "dogecoin:DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L",
    "hello",
    "",
]


@pytest.mark.parametrize("raw", WALLETS_INVALID, ids=[v[:30] or "empty" for v in WALLETS_INVALID])
def test_wallet_rejects(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize("crypto_wallet", raw)
    assert info.value.kind == "crypto_wallet"


BASE58CHECK = [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
]


@pytest.mark.parametrize("address", BASE58CHECK, ids=BASE58CHECK)
def test_b58check_encode_inverts_the_decoder(address: str) -> None:
    payload = b58check_payload(address)
    assert payload is not None
    assert b58check_encode(payload) == address


@pytest.mark.parametrize(
    "data", [b"", b"\0", b"\0\0\x01", b"\xff" * 25, bytes(range(1, 30))], ids=repr
)
def test_b58encode_round_trips_leading_zero_bytes(data: bytes) -> None:
    text = b58encode(data)
    assert b58decode(text) == data
    assert text.startswith("1" * (len(data) - len(data.lstrip(b"\0"))))
