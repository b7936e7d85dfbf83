"""Optional Ed25519 signatures of snapshot manifests (``ingest --sign-key``, ``serve --trust-key``).

Responsibility: sign a snapshot's ``manifest.json`` with the data team's private key and check
that signature with their public key, so a replica serves only snapshots the team built. The
manifest holds the content checksum and per-file hashes, which the server verifies against the
data before serving: a valid signature on the manifest therefore covers the whole snapshot.

Invariants:
* The signature is detached, in ``manifest.sig`` beside the manifest: the 64 raw bytes of an
  RFC 8032 Ed25519 signature over the manifest file's exact bytes.
* Keys are PEM files (PKCS#8 private key, SubjectPublicKeyInfo public key), as written by
  ``openssl genpkey -algorithm ed25519`` / ``openssl pkey -pubout`` or :func:`generate_keys`.
* A missing, malformed or non-matching signature is :class:`SnapshotCorrupt`, the same refusal
  as a failed content hash (never served, logged with both ids, counted).
"""

from __future__ import annotations

import os
from pathlib import Path

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from scameter.durable import write_durably
from scameter.errors import SnapshotCorrupt
from scameter.index import format as fmt

SIGNATURE_FILE = "manifest.sig"
EccKey = ECC.EccKey


def load_private_key(path: Path) -> ECC.EccKey:
    """The Ed25519 private key in PEM file ``path`` (ValueError when it is not one)."""
    key = ECC.import_key(Path(path).read_bytes())
    if key.curve != "Ed25519" or not key.has_private():
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> ECC.EccKey:
    """The Ed25519 public key in PEM file ``path`` (a private key file gives its public half)."""
    key = ECC.import_key(Path(path).read_bytes())
    if key.curve != "Ed25519":
        raise ValueError(f"{path}: not an Ed25519 key")
    return key.public_key()


def generate_keys(private_path: Path, public_path: Path) -> None:
    """A new Ed25519 key pair: the private key written 0600, the public key 0644."""
    key = ECC.generate(curve="Ed25519")
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.export_key(format="PEM"))
    Path(public_path).write_text(key.public_key().export_key(format="PEM"))


def sign_snapshot(snapshot_dir: Path, key: ECC.EccKey) -> None:
    """Write ``manifest.sig`` for the snapshot in ``snapshot_dir`` (fsynced, mode 0640)."""
    manifest = (snapshot_dir / fmt.MANIFEST_FILE).read_bytes()
    signature = eddsa.new(key, "rfc8032").sign(manifest)
    path = snapshot_dir / SIGNATURE_FILE
    write_durably(path, signature, append=False)


def check_signature(snapshot_dir: Path, key: ECC.EccKey) -> None:
    """SnapshotCorrupt unless ``manifest.sig`` is a valid signature of the manifest by ``key``."""
    try:
        signature = (snapshot_dir / SIGNATURE_FILE).read_bytes()
    except FileNotFoundError:
        raise SnapshotCorrupt(snapshot_dir, f"unsigned manifest (no {SIGNATURE_FILE})") from None
    manifest = (snapshot_dir / fmt.MANIFEST_FILE).read_bytes()
    try:
        eddsa.new(key, "rfc8032").verify(manifest, signature)
    except ValueError:
        raise SnapshotCorrupt(snapshot_dir, "manifest signature does not verify") from None


__all__ = [
    "SIGNATURE_FILE",
    "EccKey",
    "check_signature",
    "generate_keys",
    "load_private_key",
    "load_public_key",
    "sign_snapshot",
]
