"""Signed notes and checkpoints (C2SP signed-note, tlog-checkpoint) with Ed25519 keys.

The ledger signs each new checkpoint with a `Signer`; anyone holding the verifier key (`vkey` text,
`<name>+<key id hex>+<base64(0x01 || public key)>`) checks it with `open_checkpoint`. Signing keys are stored as
`PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || 32-byte seed)>` (the format of Go's golang.org/x/mod/sumdb/note),
read from a file or from a Kubernetes Secret's data. Ed25519 signing is deterministic, so two writers signing the
same tree head produce the same bytes (the S3 backend relies on it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

__all__ = [
    "Checkpoint",
    "NoteError",
    "Signer",
    "Verifier",
    "generate_signer",
    "load_signer",
    "open_checkpoint",
    "open_note",
    "sign_note",
    "signer_from_secret",
]

_ED25519 = 0x01
_KEY_NAME = re.compile(r"^[^\s+]+$")
_SIGNATURE_LINE = re.compile(r"^\u2014 (\S+) ([A-Za-z0-9+/=]+)$")
_MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or whose signature does not verify."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NoteError(f"{what}: not base64") from error


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([_ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not _KEY_NAME.match(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    name: str
    public_key: bytes  # 32 bytes, RFC 8032 encoding

    @property
    def key_id(self) -> bytes:
        return _key_id(self.name, self.public_key)

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([_ED25519]) + self.public_key).decode()}"

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        """Parse `<name>+<hex key id>+<base64(0x01 || key)>`; NoteError if malformed or the key id mismatches."""
        parts = text.strip().split("+", 2)  # base64 may contain "+"; names and ids cannot
        if len(parts) != 3:
            raise NoteError("verifier key must be <name>+<key id hex>+<base64 key>")
        name, key_id_hex, encoded = parts
        material = _b64decode(encoded, "verifier key")
        if len(material) != 33 or material[0] != _ED25519:
            raise NoteError("verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
        verifier = cls(_check_name(name), material[1:])
        if verifier.key_id.hex() != key_id_hex:
            raise NoteError(f"verifier key id {key_id_hex} does not match its name and key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """An Ed25519 note signer under a key name (by convention the log's origin)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.name = _check_name(name)
        self._key = private_key
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, public)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def skey(self) -> str:
        """The signing key as text (keep it secret): PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>."""
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(bytes([_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    @classmethod
    def from_skey(cls, text: str | bytes) -> Signer:
        """Parse a signing key; NoteError (never echoing the key) if it is malformed."""
        raw = text.decode() if isinstance(text, bytes) else text
        parts = raw.strip().split("+", 4)  # base64 may contain "+"; names and ids cannot
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signing key must be PRIVATE+KEY+<name>+<key id hex>+<base64 seed>")
        material = _b64decode(parts[4], "signing key")
        if len(material) != 33 or material[0] != _ED25519:
            raise NoteError("signing key is not an Ed25519 seed (type 0x01, 32 bytes)")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(material[1:]))
        if signer.verifier.key_id.hex() != parts[3]:
            raise NoteError("signing key id does not match its name and key")
        return signer


def generate_signer(name: str) -> Signer:
    return Signer(name, Ed25519PrivateKey.generate())


def load_signer(path: Path) -> Signer:
    return Signer.from_skey(path.read_bytes())


def signer_from_secret(data: Mapping[str, str | bytes], field: str = "skey") -> Signer:
    """The signer from a Secret: `data[field]` as the API returns it (base64 text) or already decoded (bytes)."""
    if field not in data:
        raise NoteError(f"the Secret has no {field!r} field")
    value = data[field]
    if isinstance(value, str) and not value.startswith("PRIVATE+KEY+"):
        value = _b64decode(value, f"Secret field {field!r}")
    return Signer.from_skey(value)


def sign_note(text: str, signer: Signer) -> str:
    """`text` (ending in a newline) + blank line + one signature line by `signer`."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signature = signer.verifier.key_id + signer.sign(text.encode())
    return f"{text}\n\u2014 {signer.name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text if `verifier` signed it. NoteError if malformed, if no signature is by `verifier`, or if
    one claiming to be by it fails. Signatures by other keys are ignored, as the spec requires."""
    if any(ch < " " and ch != "\n" for ch in note):
        raise NoteError("note contains control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("note has no signature block (blank line, then signature lines)")
    text, lines = note[:split + 1], note[split + 2:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError(f"note has more than {_MAX_SIGNATURES} signatures")
    verified = False
    for line in lines:
        match = _SIGNATURE_LINE.match(line)
        if not match:
            raise NoteError(f"malformed signature line {line[:80]!r}")
        blob = _b64decode(match.group(2), "signature")
        if len(blob) < 5:
            raise NoteError("signature too short")
        if match.group(1) != verifier.name or blob[:4] != verifier.key_id:
            continue
        if not verifier.verify(text.encode(), blob[4:]):
            raise NoteError(f"signature by {verifier.name} does not verify")
        verified = True
    if not verified:
        raise NoteError(f"note is not signed by {verifier.name}+{verifier.key_id.hex()}")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and RFC 9162 root hash (tlog-checkpoint note text)."""

    origin: str
    size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
            raise NoteError("checkpoint text must be origin, size, root hash (and extensions), one per line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size):
            raise NoteError(f"checkpoint size {size[:30]!r} is not a decimal without leading zeros")
        root_hash = _b64decode(root, "checkpoint root hash")
        if len(root_hash) != 32:
            raise NoteError("checkpoint root hash is not 32 bytes")
        return cls(origin, int(size), root_hash)


def open_checkpoint(note: str, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """Verify the signature first, then parse; NoteError if the origin differs from the expected one."""
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint
