"""``iso_checksum`` in every form Packer 1.6 accepts, and hashing files.

Forms: ``md5:HEX``, ``sha1:HEX``, ``sha256:HEX``, ``sha512:HEX``; a bare ``HEX`` (type from its
length); ``file:URL-or-path`` (a SUMS file in GNU ``HEX  name`` or BSD ``SHA256 (name) = HEX``
form, searched for the downloaded file's name); ``none`` (no check, with a warning).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

ALGORITHMS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_BY_LENGTH = {length: name for name, length in ALGORITHMS.items()}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_BSD = re.compile(r"^(?P<algo>[A-Za-z0-9]+) ?\((?P<name>.+)\) ?= ?(?P<hex>[0-9a-fA-F]+)$")
_GNU = re.compile(r"^(?P<hex>[0-9a-fA-F]+)\s+[* ]?(?P<name>.+)$")
HASH_CHUNK = 4 << 20


@dataclass(frozen=True)
class Checksum:
    """An expected digest."""

    algorithm: str
    hexdigest: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hexdigest}"


@dataclass(frozen=True)
class ChecksumSpec:
    """A parsed ``iso_checksum``: a digest, a SUMS file to look in, or nothing (``none``)."""

    checksum: Checksum | None = None
    sums_source: str = ""  # for file:...

    @property
    def is_none(self) -> bool:
        return self.checksum is None and not self.sums_source


def parse_checksum(text: str) -> ChecksumSpec:
    """Parse ``iso_checksum``; raise ValueError with go-getter's message on a bad value."""
    text = text.strip()
    if text.lower() == "none":
        return ChecksumSpec()
    if not text:
        raise ValueError("A checksum must be specified")
    kind, sep, value = text.partition(":")
    if sep and kind.lower() == "file":
        if not value:
            raise ValueError("iso_checksum file: needs a path or URL")
        return ChecksumSpec(sums_source=value)
    if not sep:
        guessed = _BY_LENGTH.get(len(text))
        if guessed is None:
            raise ValueError(f'Unknown type for checksum {text} in "{text}"')
        kind, value = guessed, text
    if kind.lower() not in ALGORITHMS:
        raise ValueError(f'unsupported checksum type: {kind} in "{text}"')
    _check_hex(value, text)
    return ChecksumSpec(checksum=Checksum(kind.lower(), value.lower()))


def _check_hex(value: str, text: str) -> None:
    """Go's ``hex.DecodeString`` errors, worded as go-getter reports them."""
    for char in value[: len(value) - len(value) % 2]:
        if char not in "0123456789abcdefABCDEF":
            raise ValueError(f"invalid checksum: encoding/hex: invalid byte: U+{ord(char):04X} '{char}' in \"{text}\"")
    if len(value) % 2:
        raise ValueError(f'invalid checksum: encoding/hex: odd length hex string in "{text}"')


def make_checksum(kind: str, value: str) -> Checksum:
    """A :class:`Checksum` from a type (empty: guess from the length) and a hex digest (SUMS files)."""
    if not _HEX.match(value):
        raise ValueError(f"invalid checksum {value!r}: not a hex string")
    if not kind:
        guessed = _BY_LENGTH.get(len(value))
        if guessed is None:
            raise ValueError(f"invalid checksum {value!r}: can't guess its type from length {len(value)}")
        kind = guessed
    if kind not in ALGORITHMS:
        raise ValueError(f"unsupported checksum type {kind!r}")
    return Checksum(kind, value.lower())


def find_in_sums(text: str, filename: str) -> Checksum:
    """The entry for ``filename`` in a SUMS file's text; ValueError when absent."""
    wanted = {filename, "./" + filename}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        bsd = _BSD.match(line)
        if bsd and bsd.group("name") in wanted:
            return make_checksum(bsd.group("algo").lower(), bsd.group("hex"))
        gnu = _GNU.match(line)
        if gnu and gnu.group("name").strip() in wanted:
            return make_checksum("", gnu.group("hex"))
    raise ValueError(f"no checksum for {filename!r} found in the checksum file")


def hash_file(path: Path, algorithm: str) -> str:
    """Hex digest of ``path`` (blocking; call it in a thread)."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
