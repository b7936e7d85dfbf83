"""Crypto wallets: ``chain:address`` with the chain's checksum verified.

Chains and canonical forms (see ``docs/identifiers.md``):

* ``ethereum`` (any EVM chain): ``0x`` + 40 hex digits, canonical **lower case**. A mixed-case
  address must carry a valid EIP-55 checksum (keccak-256 of the lower-case hex; a letter is
  upper case where the matching hash nibble is >= 8); all-lower or all-upper carry none and are
  accepted. The same key pair controls an address on every EVM chain, so ``bsc:``,
  ``polygon:``, ``arbitrum:`` ... all map to ``ethereum:`` and share one key.
* ``bitcoin``: base58check P2PKH (version 0x00, ``1...``) and P2SH (0x05, ``3...``), kept as
  typed because base58 is case-sensitive; or segwit bech32 (BIP-173, witness v0) / bech32m
  (BIP-350, v1+) with hrp ``bc``, canonical lower case (BIP-173 forbids mixed case). Mainnet only.
* ``tron``: base58check with version byte 0x41 (``T...``), kept as typed.

Input: ``chain:address``, a BIP-21 URI (``bitcoin:addr?amount=1``), or a bare address whose
chain is inferred from its shape.

Invariants: pure; idempotent; every accepted value passed its chain's checksum.
"""

from __future__ import annotations

import hashlib
from typing import Final

from Crypto.Hash import keccak

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.spec import KindSpec

_KIND: Final = Kind.CRYPTO_WALLET

ETHEREUM: Final = "ethereum"
BITCOIN: Final = "bitcoin"
TRON: Final = "tron"

#: Chain names and aliases people write, mapped to the canonical chain.
CHAIN_ALIASES: Final[dict[str, str]] = {
    "ethereum": ETHEREUM,
    "eth": ETHEREUM,
    "evm": ETHEREUM,
    "erc20": ETHEREUM,
    "bsc": ETHEREUM,
    "bnb": ETHEREUM,
    "bep20": ETHEREUM,
    "polygon": ETHEREUM,
    "matic": ETHEREUM,
    "arbitrum": ETHEREUM,
    "optimism": ETHEREUM,
    "base": ETHEREUM,
    "avalanche": ETHEREUM,
    "avax": ETHEREUM,
    "bitcoin": BITCOIN,
    "btc": BITCOIN,
    "tron": TRON,
    "trx": TRON,
    "trc20": TRON,
}

# --- base58check (Bitcoin's base58 alphabet; checksum = first 4 bytes of SHA256(SHA256(x))) ---

B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(B58_ALPHABET)}

#: base58check version bytes of the mainnet addresses accepted here.
P2PKH_VERSION: Final = 0x00  # bitcoin pay-to-pubkey-hash, 1...
P2SH_VERSION: Final = 0x05  # bitcoin pay-to-script-hash, 3...
TRON_VERSION: Final = 0x41  # tron, T...


def _b58_checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def b58encode(data: bytes) -> str:
    """Base58 of ``data``, each leading zero byte written as ``1`` (the inverse of b58decode)."""
    value = int.from_bytes(data, "big")
    digits: list[str] = []
    while value:
        value, digit = divmod(value, 58)
        digits.append(B58_ALPHABET[digit])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(digits))


def b58check_encode(payload: bytes) -> str:
    """base58check of ``payload`` (version byte + data): the inverse of b58check_payload."""
    return b58encode(payload + _b58_checksum(payload))


def b58decode(text: str) -> bytes | None:
    """Decode base58 (leading ``1`` = one zero byte); None on a character outside the alphabet."""
    value = 0
    for ch in text:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            return None
        value = value * 58 + digit
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\x00" * pad + body


def b58check_payload(text: str) -> bytes | None:
    """Payload (version byte + data) of a base58check string, or None if the checksum fails."""
    if not 1 <= len(text) <= 64:
        return None
    raw = b58decode(text)
    if raw is None or len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if _b58_checksum(payload) != check:
        return None
    return payload


# --- bech32 / bech32m (BIP-173 "Bech32", BIP-350 "Bech32m"; reference code in the BIPs) ---

_BECH32_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX: Final = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_CONST: Final = 1
_BECH32M_CONST: Final = 0x2BC830A3
_GEN: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(text: str) -> tuple[str, list[int], int] | None:
    """(hrp, data without checksum, checksum constant) or None; BIP-173 section "Bech32"."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        return None
    if text.lower() != text and text.upper() != text:
        return None  # BIP-173: mixed case is invalid
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90:
        return None
    hrp = text[:pos]
    data: list[int] = []
    for ch in text[pos + 1 :]:
        d = _BECH32_INDEX.get(ch)
        if d is None:
            return None
        data.append(d)
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        return None
    return hrp, data[:-6], const


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> list[int] | None:
    """Regroup bits without padding (BIP-173 ``convertbits(..., pad=False)``)."""
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        return None
    return out


def segwit_decode(hrp: str, address: str) -> tuple[int, bytes] | None:
    """(witness version, program) of a segwit address for ``hrp``; BIP-173 + BIP-350 rules."""
    decoded = bech32_decode(address)
    if decoded is None or decoded[0] != hrp or not decoded[1]:
        return None
    _, data, const = decoded
    version = data[0]
    program = _convert_bits(data[1:], 5, 8)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    # BIP-350: v0 uses bech32, v1..16 bech32m.
    if (version == 0) != (const == _BECH32_CONST):
        return None
    return version, bytes(program)


# --- EIP-55 ---


def eip55_checksum(hex40: str) -> str:
    """The EIP-55 mixed-case spelling of 40 hex digits (without ``0x``)."""
    lower = hex40.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "".join(
        c.upper() if c.isalpha() and int(h, 16) >= 8 else c
        for c, h in zip(lower, digest, strict=False)
    )


_HEX: Final = frozenset("0123456789abcdefABCDEF")


def _ethereum(address: str, raw: str) -> str:
    if len(address) != 42 or address[:2] not in ("0x", "0X"):
        raise InvalidIdentifier(_KIND, "an EVM address is 0x followed by 40 hex digits", raw)
    body = address[2:]
    if not _HEX.issuperset(body):
        raise InvalidIdentifier(_KIND, "an EVM address is 0x followed by 40 hex digits", raw)
    if body != body.lower() and body != body.upper() and eip55_checksum(body) != body:
        raise InvalidIdentifier(_KIND, "EIP-55 checksum mismatch (mistyped address?)", raw)
    return "0x" + body.lower()


def _bitcoin(address: str, raw: str) -> str:
    if address[:3].lower() == "bc1":
        if segwit_decode("bc", address) is None:
            raise InvalidIdentifier(_KIND, "bad bech32/bech32m segwit address or checksum", raw)
        return address.lower()
    payload = b58check_payload(address)
    if payload is None:
        raise InvalidIdentifier(_KIND, "bad base58check bitcoin address or checksum", raw)
    if len(payload) != 21 or payload[0] not in (P2PKH_VERSION, P2SH_VERSION):
        raise InvalidIdentifier(
            _KIND, "not a mainnet P2PKH (1...) or P2SH (3...) bitcoin address", raw
        )
    return address


def _tron(address: str, raw: str) -> str:
    payload = b58check_payload(address)
    if payload is None or len(payload) != 21 or payload[0] != TRON_VERSION:
        raise InvalidIdentifier(_KIND, "bad tron address (base58check, T..., 34 chars)", raw)
    return address


_CHAIN_CHECKS: Final = {ETHEREUM: _ethereum, BITCOIN: _bitcoin, TRON: _tron}


def infer_chain(address: str) -> str | None:
    """The chain an address's shape suggests, or None (no checksum verified here)."""
    if address[:2] in ("0x", "0X"):
        return ETHEREUM
    if address[:3].lower() == "bc1" or address[:1] in ("1", "3"):
        return BITCOIN
    if address[:1] == "T":
        return TRON
    return None


def normalize_crypto_wallet(raw: str) -> Identifier:
    """Canonical ``crypto_wallet`` identifier (``chain:address``); raises InvalidIdentifier."""
    text = fold(raw)
    if not text:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if len(text) > 256:
        raise InvalidIdentifier(_KIND, "too long to be a wallet address", raw)
    prefix, colon, rest = text.partition(":")
    if colon:
        chain = CHAIN_ALIASES.get(prefix.strip().lower())
        if chain is None:
            raise InvalidIdentifier(
                _KIND, f"unknown chain; use one of {', '.join(sorted(_CHAIN_CHECKS))}", raw
            )
        # BIP-21 / EIP-681 style URIs carry parameters after '?'.
        address = rest.split("?", 1)[0].strip()
    else:
        address = text
        inferred = infer_chain(address)
        if inferred is None:
            raise InvalidIdentifier(_KIND, "unrecognised address; write chain:address", raw)
        chain = inferred
    if not address:
        raise InvalidIdentifier(_KIND, "no address after the chain", raw)
    return Identifier(_KIND, f"{chain}:{_CHAIN_CHECKS[chain](address, raw)}")


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=0x08,
    normalize=normalize_crypto_wallet,
    display_name="crypto wallet",
    detect_leads=("0x", "0X"),  # among the kinds, only EVM addresses are written 0x...
    detect_prefixes=frozenset(CHAIN_ALIASES),
)

__all__ = [
    "B58_ALPHABET",
    "BITCOIN",
    "CHAIN_ALIASES",
    "ETHEREUM",
    "P2PKH_VERSION",
    "P2SH_VERSION",
    "SPEC",
    "TRON",
    "TRON_VERSION",
    "b58check_encode",
    "b58check_payload",
    "b58decode",
    "b58encode",
    "bech32_decode",
    "eip55_checksum",
    "infer_chain",
    "normalize_crypto_wallet",
    "segwit_decode",
]
