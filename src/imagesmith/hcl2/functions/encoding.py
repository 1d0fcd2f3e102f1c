"""Encoding and hashing functions: base64, URL, CSV, hashes, UUIDs, JSON."""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import gzip
import hashlib
import io
import urllib.parse
import uuid

from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.functions.jsonenc import FUNCTIONS as JSON_FUNCTIONS
from imagesmith.hcl2.functions.yamlenc import FUNCTIONS as YAML_FUNCTIONS
from imagesmith.hcl2.types import NUMBER, STRING, ListType, ObjectType
from imagesmith.hcl2.values import Value, object_val, string_val

_S = Param("str", STRING)


def _str(fn: object) -> object:
    return make([_S], STRING, lambda a: string_val(fn(a[0].as_str())))  # type: ignore[operator]


def _b64decode(s: str) -> str:
    try:
        raw = base64.b64decode(s.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError(f'failed to decode base64 data "{s}"', 0) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError("the result of decoding the provided string is not valid UTF-8", 0) from None


def _b64gzip(s: str) -> str:
    return base64.b64encode(gzip.compress(s.encode(), mtime=0)).decode()


def _hash(name: str) -> object:
    return _str(lambda s: hashlib.new(name, s.encode("utf-8")).hexdigest())


def _uuidv5(args: list[Value]) -> Value:
    ns, name = args[0].as_str(), args[1].as_str()
    spaces = {"dns": uuid.NAMESPACE_DNS, "url": uuid.NAMESPACE_URL, "oid": uuid.NAMESPACE_OID,
              "x500": uuid.NAMESPACE_X500}
    if ns in spaces:
        space = spaces[ns]
    else:
        try:
            space = uuid.UUID(ns)
        except ValueError:
            raise FunctionError(f'uuidv5() doesn\'t support namespace {ns} (invalid UUID length)', 0) from None
    return string_val(str(uuid.uuid5(space, name)))


def _csvdecode(args: list[Value]) -> Value:
    rows = list(csv.reader(io.StringIO(args[0].as_str()), strict=True))
    if not rows:
        raise FunctionError("missing header line", 0)
    header = rows[0]
    out = []
    for i, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise FunctionError(f"record on line {i}: wrong number of fields", 0)
        out.append(object_val({h: string_val(v) for h, v in zip(header, row, strict=True)}))
    ety = ObjectType({h: STRING for h in header})
    return Value(ListType(ety), out)


def _text_codec(name: str) -> codecs.CodecInfo:
    try:
        return codecs.lookup(name)
    except LookupError:
        raise FunctionError(f'"{name}" is not a supported IANA encoding name or alias in this Packer version',
                            1) from None


def _textencode(args: list[Value]) -> Value:
    codec = _text_codec(args[1].as_str())
    try:
        raw = codec.encode(args[0].as_str())[0]
    except UnicodeEncodeError:
        raise FunctionError(f"the given string contains characters that cannot be represented in "
                            f"{args[1].as_str()}", 0) from None
    return string_val(base64.b64encode(raw).decode())


def _textdecode(args: list[Value]) -> Value:
    codec = _text_codec(args[1].as_str())
    try:
        raw = base64.b64decode(args[0].as_str(), validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError("the given value is has an invalid base64 symbol", 0) from None
    return string_val(codec.decode(raw, "replace")[0])


def _bcrypt(args: list[Value]) -> Value:
    """Blowfish crypt, ``$2a$`` and cost 10 by default, as Go's x/crypto/bcrypt (through the C library's
    crypt(3), which libxcrypt implements)."""
    import warnings

    cost_val = args[1].as_number() if len(args) > 1 else 10
    if len(args) > 2:
        raise FunctionError("bcrypt() accepts no more than two arguments")
    cost = int(cost_val)
    if cost != cost_val or not 4 <= cost <= 31:
        raise FunctionError(f"bcrypt: cost {cost_val} is outside allowed range (4,31)", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            raise FunctionError("bcrypt is not available with this Python (no crypt module)") from None
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << cost).replace("$2b$", "$2a$", 1)
    hashed = crypt.crypt(args[0].as_str(), salt)
    if not hashed or not hashed.startswith("$2"):
        raise FunctionError("bcrypt is not supported by this system's crypt(3)")
    return string_val(hashed)


def _rsadecrypt(args: list[Value]) -> Value:
    """PKCS #1 v1.5 decryption with a PEM private key (the cryptography package comes with asyncssh)."""
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = args[0].as_str()
    try:
        cipher = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError(f'failed to decode input "{text}": cipher text must be base64-encoded', 0) from None
    try:
        key = load_pem_private_key(args[1].as_str().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise FunctionError(f"invalid private key: {exc}", 1) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise FunctionError("invalid private key: not an RSA key", 1)
    try:
        plain = key.decrypt(cipher, padding.PKCS1v15())
    except ValueError as exc:
        raise FunctionError(f"failed to decrypt: {exc}", 0) from None
    return string_val(plain.decode("utf-8", "replace"))


FUNCTIONS = {
    "rsadecrypt": make([Param("ciphertext", STRING), Param("privatekey", STRING)], STRING, _rsadecrypt),
    "bcrypt": make([_S], STRING, _bcrypt, Param("cost", NUMBER)),
    "base64encode": _str(lambda s: base64.b64encode(s.encode()).decode()),
    "base64decode": _str(_b64decode),
    "base64gzip": _str(_b64gzip),
    "urlencode": _str(lambda s: urllib.parse.quote_plus(s, safe="")),
    "md5": _hash("md5"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "sha512": _hash("sha512"),
    "uuidv4": make([], STRING, lambda a: string_val(str(uuid.uuid4()))),
    "uuidv5": make([Param("namespace", STRING), Param("name", STRING)], STRING, _uuidv5),
    "csvdecode": make([_S], ListType(ObjectType({})), _csvdecode),
    "textencodebase64": make([Param("string", STRING), Param("encoding", STRING)], STRING, _textencode),
    "textdecodebase64": make([Param("source", STRING), Param("encoding", STRING)], STRING, _textdecode),
    **JSON_FUNCTIONS,
    **YAML_FUNCTIONS,
}
