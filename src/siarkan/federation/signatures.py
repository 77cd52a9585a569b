"""HTTP Signatures, both schemes the fediverse uses. Pure: bytes and strings in and out.

Signing (outgoing deliveries and signed fetches):

    method, url, headers, body | sign_cavage   -> Date, Digest, Host, Signature
    method, url, headers, body | sign_rfc9421  -> Date, Content-Digest, Signature-Input, Signature

Verifying (our inbox):

    method, target URI, headers | parse_signed_request -> SignedRequest (key id, base, signature)
        | check_signed_request(body, now, window)     (coverage, Date/created, (Content-)Digest)
        | (caller fetches the key for SignedRequest.key_id)
        | verify_signature(public_key, ...)           -> bool

Schemes: draft-cavage-http-signatures-12 (what Mastodon sends; `rsa-sha256` and `hs2019`) and
RFC 9421 HTTP Message Signatures (what Fedify sends first). The RFC 9421 subset here: derived
components @method @target-uri @authority @scheme @request-target @path @query, plain header
fields; algorithms rsa-v1_5-sha256, rsa-pss-sha512, ecdsa-p256-sha256, ed25519.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Any, Literal, cast
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

Scheme = Literal["draft-cavage", "rfc9421"]
PublicKey = RSAPublicKey | Ed25519PublicKey | ec.EllipticCurvePublicKey

CAVAGE: Scheme = "draft-cavage"
RFC9421: Scheme = "rfc9421"


class SignatureError(Exception):
    """Why a request's signature cannot be accepted (answered with 401, never logged as 5xx)."""


# ---------------------------------------------------------------------------------------------
# Shared pieces: dates, digests, keys


def http_date(now: datetime) -> str:
    """RFC 9110 IMF-fixdate, e.g. "Tue, 20 Apr 2021 02:07:55 GMT"."""
    return _http_date_of_second(int(now.timestamp()))


@lru_cache(maxsize=4)
def _http_date_of_second(second: int) -> str:
    # A fan-out signs thousands of requests within the same few seconds.
    return format_datetime(datetime.fromtimestamp(second, UTC), usegmt=True)


@lru_cache(maxsize=1024)
def parse_http_date(value: str) -> datetime | None:
    """Cached: under load many requests carry the same second's Date header."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=1024)
def _http_date_seconds(value: str) -> float | None:
    """parse_http_date as a POSIX timestamp: what the inbox's window check compares."""
    parsed = parse_http_date(value)
    return None if parsed is None else parsed.timestamp()


@lru_cache(maxsize=16)
def digest_header(body: bytes) -> str:
    """draft-cavage / RFC 3230 `Digest: SHA-256=<base64>`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """RFC 9530 `Content-Digest: sha-256=:<base64>:`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


_DIGEST_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}


def _b64decode(value: str) -> bytes:
    try:
        # What base64.b64decode(validate=True) calls, without its wrapper (twice a request).
        return binascii.a2b_base64(value.strip(), strict_mode=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed base64") from None


def check_digest(value: str, body: bytes) -> None:
    """`Digest: SHA-256=..., SHA-512=...`: every known algorithm must match, one must be known."""
    matched = False
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        algorithm = _DIGEST_ALGORITHMS.get(name.strip().lower())
        if not sep or algorithm is None:
            continue
        expected = algorithm(body).digest()
        if not hmac.compare_digest(_b64decode(encoded), expected):
            raise SignatureError(f"Digest {name.strip()} does not match the body")
        matched = True
    if not matched:
        raise SignatureError("Digest has no SHA-256 or SHA-512 value")


# The byte sequence is any run up to the closing colon: _b64decode refuses what is not base64,
# as the general parser would (a character class costs 2-3x as much per character to scan).
_ONE_DIGEST_RE = re.compile(r"\s*(sha-256|sha-512)=:([^:]*):\s*")


def check_content_digest(value: str, body: bytes) -> None:
    """RFC 9530 `Content-Digest` (a structured dictionary of byte sequences)."""
    one = _ONE_DIGEST_RE.fullmatch(value)
    if one:  # the common case: a single sha-256 (Fedify, us)
        expected = _DIGEST_ALGORITHMS[one.group(1)](body).digest()
        if not hmac.compare_digest(_b64decode(one.group(2)), expected):
            raise SignatureError(f"Content-Digest {one.group(1)} does not match the body")
        return
    matched = False
    for name, item in parse_dictionary(value).items():
        algorithm = _DIGEST_ALGORITHMS.get(name)
        if algorithm is None or not isinstance(item, Item) or not isinstance(item.value, bytes):
            continue
        if not hmac.compare_digest(item.value, algorithm(body).digest()):
            raise SignatureError(f"Content-Digest {name} does not match the body")
        matched = True
    if not matched:
        raise SignatureError("Content-Digest has no sha-256 or sha-512 value")


@lru_cache(maxsize=4096)
def load_public_key(pem: str) -> PublicKey:
    """Parse a PEM public key once (SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY")."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeError):
        raise SignatureError("the key's publicKeyPem cannot be parsed") from None
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise SignatureError(f"unsupported key type {type(key).__name__}")
    return key


def header_map(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lowercased names; repeated fields joined with ", " (RFC 9421 §2.1, draft-cavage §2.3)."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        value = value.strip()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


# ---------------------------------------------------------------------------------------------
# Structured field values (RFC 8941), the subset Signature-Input / Signature / Content-Digest use

BareItem = int | float | str | bytes | bool


@dataclass(frozen=True, slots=True)
class Token:
    value: str


@dataclass(frozen=True, slots=True)
class Item:
    value: BareItem | Token
    params: tuple[tuple[str, BareItem | Token], ...] = ()


@dataclass(frozen=True, slots=True)
class InnerList:
    items: tuple[Item, ...]
    params: tuple[tuple[str, BareItem | Token], ...] = ()


_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN_RE = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER_RE = re.compile(r"-?\d{1,15}(?:\.\d{1,3})?")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> SignatureError:
        return SignatureError(f"malformed structured field ({what} at {self.pos})")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def key(self) -> str:
        match = _KEY_RE.match(self.text, self.pos)
        if not match:
            raise self.fail("key")
        self.pos = match.end()
        return match.group(0)

    def bare_item(self) -> BareItem | Token:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            end = self.text.find(":", self.pos + 1)
            if end < 0:
                raise self.fail("byte sequence")
            raw = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return _b64decode(raw)
        if char == "?":
            flag = self.text[self.pos + 1 : self.pos + 2]
            if flag not in ("0", "1"):
                raise self.fail("boolean")
            self.pos += 2
            return flag == "1"
        if char == "-" or char.isdigit():
            match = _NUMBER_RE.match(self.text, self.pos)
            if not match:
                raise self.fail("number")
            self.pos = match.end()
            text = match.group(0)
            return float(text) if "." in text else int(text)
        match = _TOKEN_RE.match(self.text, self.pos)
        if not match:
            raise self.fail("item")
        self.pos = match.end()
        return Token(match.group(0))

    def string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail("string escape")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not (" " <= char <= "~"):
                raise self.fail("string character")
            else:
                out.append(char)
        raise self.fail("unterminated string")

    def params(self) -> tuple[tuple[str, BareItem | Token], ...]:
        out: list[tuple[str, BareItem | Token]] = []
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            name = self.key()
            value: BareItem | Token = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            out = [(k, v) for k, v in out if k != name]
            out.append((name, value))
        return tuple(out)

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() != "(":
            value = self.bare_item()
            return Item(value, self.params())
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            value = self.bare_item()
            items.append(Item(value, self.params()))
            if self.peek() not in (" ", ")"):
                raise self.fail("inner list")


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """RFC 8941 §4.2.2 dictionary; a repeated key keeps its last value."""
    parser = _Parser(text.strip())
    out: dict[str, Item | InnerList] = {}
    if not parser.text:
        return out
    while True:
        name = parser.key()
        if parser.peek() == "=":
            parser.pos += 1
            out[name] = parser.item_or_inner_list()
        else:
            out[name] = Item(True, parser.params())
        parser.skip_ows()
        if parser.pos >= len(parser.text):
            return out
        if parser.peek() != ",":
            raise parser.fail("dictionary separator")
        parser.pos += 1
        parser.skip_ows()
        if parser.pos >= len(parser.text):
            raise parser.fail("trailing comma")


def _serialize_bare(value: BareItem | Token) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, Token):
        return value.value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_params(params: Iterable[tuple[str, BareItem | Token]]) -> str:
    return "".join(
        f";{name}" if value is True else f";{name}={_serialize_bare(value)}"
        for name, value in params
    )


@lru_cache(maxsize=4096)
def serialize_item(item: Item) -> str:
    return _serialize_bare(item.value) + _serialize_params(item.params)


@lru_cache(maxsize=4096)
def serialize_inner_list(inner: InnerList) -> str:
    return (
        "("
        + " ".join(serialize_item(i) for i in inner.items)
        + ")"
        + _serialize_params(inner.params)
    )


# ---------------------------------------------------------------------------------------------
# The request as the signer saw it


@dataclass(slots=True)
class RequestView:
    """A request reduced to what signatures cover.

    `target_uri` is absolute, as the sender addressed it (our public scheme + Host + raw path
    and query); `headers` come from `header_map`.
    """

    method: str
    target_uri: str
    headers: Mapping[str, str]
    # The raw path and query when the server already has it (saves re-parsing target_uri).
    path_qs: str | None = None

    @property
    def path_and_query(self) -> str:
        if self.path_qs is not None:
            return self.path_qs
        parts = urlsplit(self.target_uri)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(slots=True)
class SignedRequest:
    """What a request's signature claims; `base` is what the key must have signed."""

    scheme: Scheme
    key_id: str
    algorithm: str
    base: bytes
    signature: bytes
    covered: frozenset[str]
    created: int | None = None
    expires: int | None = None


# ---------------------------------------------------------------------------------------------
# draft-cavage-http-signatures-12


_CAVAGE_PARAM_RE = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|(\d+(?:\.\d+)?))\s*(?:,|$)')


# The order Mastodon (and we) send; other orders and extra parameters take the general path.
_CAVAGE_USUAL_RE = re.compile(
    r'keyId="([^"]*)",algorithm="([^"]*)",headers="([^"]*)",signature="([^"]*)"'
)


def parse_cavage_params(value: str) -> dict[str, str]:
    """`keyId="...",algorithm="...",headers="...",signature="..."` -> dict (names as sent)."""
    usual = _CAVAGE_USUAL_RE.fullmatch(value.strip())
    if usual:
        key_id, algorithm, headers, signature = usual.groups()
        return {"keyId": key_id, "algorithm": algorithm, "headers": headers, "signature": signature}
    out: dict[str, str] = {}
    pos = 0
    value = value.strip()
    while pos < len(value):
        match = _CAVAGE_PARAM_RE.match(value, pos)
        if not match or match.end() == pos:
            raise SignatureError("malformed Signature header")
        out[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    return out


def cavage_signing_string(
    request: RequestView,
    names: Iterable[str],
    *,
    created: str | None = None,
    expires: str | None = None,
) -> str:
    """draft-cavage-12 §2.3: one `name: value` line per covered header, joined by "\\n"."""
    lines: list[str] = []
    for name in names:
        if name == "(request-target)":
            value = f"{request.method.lower()} {request.path_and_query}"
        elif name == "(created)":
            if created is None:
                raise SignatureError("(created) covered but no created parameter")
            value = created
        elif name == "(expires)":
            if expires is None:
                raise SignatureError("(expires) covered but no expires parameter")
            value = expires
        else:
            header = request.headers.get(name)
            if header is None:
                raise SignatureError(f"covered header {name!r} is missing")
            value = header
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _parse_cavage(request: RequestView, header: str) -> SignedRequest:
    params = parse_cavage_params(header)
    key_id, signature = params.get("keyId"), params.get("signature")
    if not key_id or not signature:
        raise SignatureError("Signature lacks keyId or signature")
    # draft-cavage-12 §2.1.6: without `headers`, only Date is signed.
    names, covered = _cavage_names(params.get("headers", "date"))
    created, expires = params.get("created"), params.get("expires")
    base = cavage_signing_string(request, names, created=created, expires=expires)
    return SignedRequest(
        scheme=CAVAGE,
        key_id=key_id,
        algorithm=params.get("algorithm", "hs2019").lower(),
        base=base.encode("utf-8"),
        signature=_b64decode(signature),
        covered=covered,
        created=_int_or_none(created),
        expires=_int_or_none(expires),
    )


@lru_cache(maxsize=256)
def _cavage_names(headers: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The covered names in order, and as a set: a sender lists the same ones every time."""
    names = tuple(headers.lower().split())
    return names, frozenset(names)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise SignatureError("created/expires is not a number") from None


def _cavage_signed(body: bool, typed: bool) -> tuple[tuple[str, ...], str]:
    names: tuple[str, ...] = ("(request-target)", "host", "date")
    names += ("digest",) if body else ()
    names += ("content-type",) if typed else ()
    return names, " ".join(names)


# What sign_cavage covers (names, and the `headers` parameter), by (has a body, has a type).
_CAVAGE_SIGNED = {(b, t): _cavage_signed(b, t) for b in (False, True) for t in (False, True)}


@lru_cache(maxsize=4096)
def _netloc_and_path(url: str) -> tuple[str, str]:
    """Host and path-and-query of a URL we sign for: each post's fan-out signs for the same
    followers' inboxes as the last one did, and urlsplit costs more than the rest."""
    parts = urlsplit(url)
    return parts.netloc, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _field(headers: Mapping[str, str], name: str) -> str | None:
    """One field of `headers` by header_map's rule (`name` lowercase), without building the
    map of every other field."""
    return header_map((k, v) for k, v in headers.items() if k.lower() == name).get(name)


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    now: datetime,
) -> dict[str, str]:
    """Headers to add to an outgoing request: Host, Date, Digest (with a body) and Signature.

    Covers what Mastodon verifies (`app/lib/signed_request.rb`, `SignatureVerification`):
    (request-target) host date, plus digest for a body, plus content-type when present.
    """
    netloc, path_qs = _netloc_and_path(url)
    added = {"Host": netloc, "Date": http_date(now)}
    covered = {"host": netloc, "date": added["Date"]}
    if body is not None:
        added["Digest"] = covered["digest"] = digest_header(body)
    content_type = _field(headers, "content-type")
    if content_type is not None:
        covered["content-type"] = content_type
    names, listed = _CAVAGE_SIGNED[body is not None, content_type is not None]
    base = cavage_signing_string(RequestView(method, url, covered, path_qs), names)
    signature = private_key.sign(base.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{listed}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return added


# ---------------------------------------------------------------------------------------------
# RFC 9421 HTTP Message Signatures

_SUPPORTED_FIELD_PARAMS: frozenset[str] = frozenset()


@lru_cache(maxsize=4096)
def _component_names(covered: InnerList) -> tuple[tuple[str, str], ...]:
    """(serialised label, name) per component, validated.

    Verifying calls it once per distinct Signature-Input text (`_signature_inputs`); the cache
    is for signing, where a fan-out builds an equal InnerList for every delivery in a second
    (a hit costs less than half of building the names again)."""
    names: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in covered.items:
        if not isinstance(item.value, str):
            raise SignatureError("a covered component is not a string")
        name = item.value
        if item.params and any(k not in _SUPPORTED_FIELD_PARAMS for k, _ in item.params):
            raise SignatureError(f"component parameters on {name!r} are not supported")
        if name.startswith("@") and name not in _DERIVED:
            raise SignatureError(f"derived component {name!r} is not supported")
        if name != name.lower():
            raise SignatureError("component names must be lowercase")
        label = serialize_item(item)
        if label in seen:
            raise SignatureError("a component is covered twice")
        seen.add(label)
        names.append((label, name))
    return tuple(names)


_DERIVED = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}
)


def _derived(request: RequestView, name: str, parts: SplitResult) -> str:
    if name == "@method":
        return request.method.upper()
    if name == "@target-uri":
        return request.target_uri
    if name == "@authority":
        return parts.netloc.lower()
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@request-target":
        return request.path_and_query
    if name == "@path":
        return parts.path or "/"
    return "?" + parts.query  # @query


def rfc9421_signature_base(request: RequestView, covered: InnerList) -> str:
    """RFC 9421 §2.5: `"component": value` lines, then `"@signature-params": ...` last."""
    return _signature_base(request, _component_names(covered), serialize_inner_list(covered))


def _signature_base(
    request: RequestView, components: tuple[tuple[str, str], ...], params: str
) -> str:
    lines: list[str] = []
    parts: SplitResult | None = None
    for label, name in components:
        if name[0] == "@":
            parts = parts or urlsplit(request.target_uri)
            value = _derived(request, name, parts)
        else:
            header = request.headers.get(name)
            if header is None:
                raise SignatureError(f"covered field {name!r} is missing")
            value = header
        lines.append(f"{label}: {value}")
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines)


def _param(inner: InnerList, name: str) -> BareItem | Token | None:
    for key, value in inner.params:
        if key == name:
            return value
    return None


@dataclass(frozen=True, slots=True)
class _Input:
    """One Signature-Input member and all that follows from its text alone."""

    label: str
    key_id: str | None
    algorithm: str
    created: int | None
    expires: int | None
    covered: frozenset[str]
    components: tuple[tuple[str, str], ...]
    params: str  # its serialisation, the @signature-params line
    unusable: str | None  # why its components cannot be verified: the refusal if no other is usable


def _prepare_input(label: str, inner: InnerList) -> _Input:
    try:
        components, unusable = _component_names(inner), None
    except SignatureError as exc:
        components, unusable = (), str(exc)
    key_id, alg, created, expires = (
        _param(inner, n) for n in ("keyid", "alg", "created", "expires")
    )
    return _Input(
        label=label,
        key_id=key_id if isinstance(key_id, str) else None,
        algorithm=alg if isinstance(alg, str) else "",
        created=created if isinstance(created, int) and created is not True else None,
        expires=expires if isinstance(expires, int) and expires is not True else None,
        covered=frozenset(i.value for i in inner.items if isinstance(i.value, str)),
        components=components,
        params=serialize_inner_list(inner),
        unusable=unusable,
    )


@lru_cache(maxsize=4096)
def _signature_inputs(text: str) -> tuple[_Input, ...]:
    """Cached by the header's text: one sender's Signature-Input is the same string for every
    request it signs within a second (only `created` changes), so busy inboxes parse and
    check it once. (Keyed by the parsed structure instead, each lookup hashed and compared
    a dozen frozen dataclasses.)"""
    return tuple(
        _prepare_input(label, inner)
        for label, inner in parse_dictionary(text).items()
        if isinstance(inner, InnerList)
    )


_ONE_SIGNATURE_RE = re.compile(r"\s*([a-z*][a-z0-9_\-.*]*)=:([^:]*):\s*")  # as _ONE_DIGEST_RE


def _signature_values(text: str) -> dict[str, bytes]:
    match = _ONE_SIGNATURE_RE.fullmatch(text)
    if match:  # the common case: one signature
        return {match.group(1): _b64decode(match.group(2))}
    return {
        label: item.value
        for label, item in parse_dictionary(text).items()
        if isinstance(item, Item) and isinstance(item.value, bytes)
    }


def _parse_rfc9421(request: RequestView, signature_input: str, signature: str) -> SignedRequest:
    values = _signature_values(signature)
    # Several signatures may be present (a proxy's and the sender's): use the first one we can.
    unusable: str | None = None
    for given in _signature_inputs(signature_input):
        value = values.get(given.label)
        if value is None or given.key_id is None:
            continue
        if given.unusable is not None:
            unusable = unusable or given.unusable
            continue
        return SignedRequest(
            scheme=RFC9421,
            key_id=given.key_id,
            algorithm=given.algorithm,
            base=_signature_base(request, given.components, given.params).encode("utf-8"),
            signature=value,
            covered=given.covered,
            created=given.created,
            expires=given.expires,
        )
    raise SignatureError(unusable or "no usable signature in Signature-Input / Signature")


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    now: datetime,
    *,
    label: str = "sig1",
) -> dict[str, str]:
    """Headers to add: Date, Content-Digest (with a body), Signature-Input and Signature.

    Covers @method @target-uri @authority (+ content-digest), with created, keyid and
    alg="rsa-v1_5-sha256" — the shape Fedify and Mastodon (4.4+) verify.
    """
    given = header_map(headers.items())
    added = {"Date": http_date(now)}
    components = ["@method", "@target-uri", "@authority"]
    if body is not None:
        added["Content-Digest"] = content_digest_header(body)
        components.append("content-digest")
    covered = InnerList(
        tuple(Item(name) for name in components),
        (
            ("created", int(now.timestamp())),
            ("keyid", key_id),
            ("alg", "rsa-v1_5-sha256"),
        ),
    )
    view = RequestView(
        method, url, {**given, **{name.lower(): value for name, value in added.items()}}
    )
    base = rfc9421_signature_base(view, covered)
    signature = private_key.sign(base.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    added["Signature-Input"] = f"{label}={serialize_inner_list(covered)}"
    added["Signature"] = f"{label}=:{base64.b64encode(signature).decode('ascii')}:"
    return added


# ---------------------------------------------------------------------------------------------
# Verification


def parse_signed_request(request: RequestView) -> SignedRequest:
    """Find and decode the request's signature (RFC 9421 preferred, else draft-cavage)."""
    headers = request.headers
    signature_input = headers.get("signature-input")
    signature = headers.get("signature")
    if signature_input is not None and signature is not None:
        return _parse_rfc9421(request, signature_input, signature)
    if signature is None:
        authorization = headers.get("authorization", "")
        if authorization[:10].lower() == "signature ":
            signature = authorization[10:]
    if signature is None:
        raise SignatureError("the request is not signed")
    return _parse_cavage(request, signature)


def check_signed_request(
    signed: SignedRequest,
    request: RequestView,
    body: bytes | None,
    *,
    now: datetime,
    window: int,
) -> None:
    """Coverage, freshness and body digest; raises SignatureError. The key is checked later.

    A POST must cover the method and target and a digest of its body (Mastodon and Fedify
    require the same); the Date header or `created` must be within `window` seconds of now
    (Mastodon allows about an hour: PROTOCOLS.md).
    """
    covered = signed.covered
    headers = request.headers
    has_body = bool(body) or request.method.upper() not in ("GET", "HEAD")
    timestamp = now.timestamp()
    if signed.scheme == CAVAGE:
        if "(request-target)" not in covered:
            raise SignatureError("(request-target) is not signed")
        if "date" not in covered and "(created)" not in covered:
            raise SignatureError("neither Date nor (created) is signed")
        if has_body:
            if "digest" not in covered:
                raise SignatureError("Digest is not signed")
            check_digest(headers["digest"], body or b"")
    else:
        if "@method" not in covered:
            raise SignatureError("@method is not signed")
        if not ({"@target-uri", "@request-target", "@path"} & covered):
            raise SignatureError("the target (@target-uri or @path) is not signed")
        if signed.created is None:
            raise SignatureError("the signature has no created parameter")
        if has_body:
            if "content-digest" in covered:
                check_content_digest(headers["content-digest"], body or b"")
            elif "digest" in covered:
                check_digest(headers["digest"], body or b"")
            else:
                raise SignatureError("Content-Digest is not signed")
    if "date" in covered:
        date = _http_date_seconds(headers["date"])
        if date is None:
            raise SignatureError("the Date header cannot be parsed")
        if abs(date - timestamp) > window:
            raise SignatureError("the Date header is outside the accepted window")
    if signed.created is not None and abs(signed.created - timestamp) > window:
        raise SignatureError("the signature's created time is outside the accepted window")
    if signed.expires is not None and signed.expires < timestamp:
        raise SignatureError("the signature has expired")


# type(key) -> is it RSA: the key classes are ABCs, and isinstance through ABCMeta costs more
# than the rest of choosing the algorithm (once per inbox request).
_IS_RSA: dict[type, bool] = {}
_PKCS1V15 = padding.PKCS1v15()  # stateless: one of each serves every verification
_SHA256 = hashes.SHA256()


def verify_signature(key: PublicKey, signed: SignedRequest) -> bool:
    """Check `signed.signature` over `signed.base` with the algorithm the key and alg allow."""
    algorithm = signed.algorithm
    is_rsa = _IS_RSA.get(type(key))
    if is_rsa is None:
        is_rsa = _IS_RSA[type(key)] = isinstance(key, RSAPublicKey)
    try:
        if is_rsa:
            rsa_key = cast(RSAPublicKey, key)
            if algorithm in ("rsa-sha256", "hs2019", "rsa-v1_5-sha256", ""):
                rsa_key.verify(signed.signature, signed.base, _PKCS1V15, _SHA256)
            elif algorithm == "rsa-pss-sha512":
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
                rsa_key.verify(signed.signature, signed.base, pss, hashes.SHA512())
            else:
                return False
        elif isinstance(key, Ed25519PublicKey):
            if algorithm not in ("ed25519", "hs2019", ""):
                return False
            key.verify(signed.signature, signed.base)
        else:
            if algorithm not in ("ecdsa-p256-sha256", "hs2019", "") or len(signed.signature) != 64:
                return False
            r = int.from_bytes(signed.signature[:32], "big")
            s = int.from_bytes(signed.signature[32:], "big")
            ec_key = cast(ec.EllipticCurvePublicKey, key)  # load_public_key admits no other kind
            ec_key.verify(encode_dss_signature(r, s), signed.base, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
