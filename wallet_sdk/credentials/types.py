"""Credential types: a registry of types, each defined by a JSON Schema file.

A type is data, not code: a JSON Schema (draft 2020-12) for the ``credentialSubject`` with
three extra members,

``$id``                          the type's URI; also the SD-JWT ``vct`` and the schema id
``x-hrss-type``                  the VC ``type`` term (e.g. ``VocationalSkillCertificate``)
``x-hrss-personal-identifiers``  subject claims that are always selectively disclosable
``x-hrss-disclosable``           JSON Pointers (RFC 6901, ``*`` for any array index) of the
                                 subject claims an issuer may make selectively disclosable,
                                 at any depth; default: every top-level property
``x-hrss-formats``               the media types it may be issued as (``vc+jwt``,
                                 ``vc+sd-jwt``); default: both

The built-in types live in ``wallet_sdk/credentials/schemas/``;
`CredentialTypeRegistry.register_schema` adds a new type at run time. On chain a type is
``keccak256(utf8($id))`` (`CredentialType.type_id`), the value
`TrustRegistry.setCredentialType` accredits an issuer for, and the Ministry commits its schema
digest (`CredentialType.schema_digest`: SHA-256 of the schema's RFC 8785 canonical JSON) with
`TrustRegistry.publishCredentialType`. A verifier fetches a schema from where it is served
(`schema_url`) and checks it against that digest with `fetch_type_schema`.

A schema is bounded (`MAX_SCHEMA_BYTES` canonical, `MAX_SCHEMA_DEPTH` levels) and
self-contained: a ``$ref`` (or ``$dynamicRef``) may only point inside the document, so
validating a credential never reaches the network.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from eth_hash.auto import keccak

from wallet_sdk.credentials._sd_jwt import Path as ClaimPath
from wallet_sdk.credentials._sd_jwt import parse_path
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jcs import canonicalize
from wallet_sdk.nesting import check_json_depth, load_json

__all__ = [
    "CREDENTIAL_FORMATS",
    "DIPLOMA",
    "JSON_SCHEMA_2020_12",
    "MAX_SCHEMA_BYTES",
    "MAX_SCHEMA_DEPTH",
    "PROFESSIONAL_TITLE",
    "SKILL_CERTIFICATE",
    "TRAINING_RECORD",
    "CredentialType",
    "CredentialTypeRegistry",
    "credential_type_id",
    "default_registry",
    "fetch_type_schema",
    "schema_digest",
    "schema_url",
]

SKILL_CERTIFICATE = "VocationalSkillCertificate"
DIPLOMA = "TechnicalSchoolDiploma"
PROFESSIONAL_TITLE = "ProfessionalTitle"
TRAINING_RECORD = "TrainingRecord"

JSON_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"
CREDENTIAL_FORMATS = ("vc+jwt", "vc+sd-jwt")
"""The media types (``typ``) a credential of a type may be issued as, by default all."""
MAX_SCHEMA_BYTES = 64 * 1024
"""Largest schema, as canonical JSON: a credential subject's schema is a few kilobytes."""
MAX_SCHEMA_DEPTH = 16
"""Arrays and objects nested in a schema, at most."""

_TERM = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
# Where a type's schema is served: urn:hrss:vct:<name>:<version> (the built-in form) at
# /schemas/<name>-<version>.json, an http(s) $id ending in /schemas/<name>.json at itself.
_URN_VCT = re.compile(r"urn:hrss:vct:([a-z0-9][a-z0-9-]{0,79}):([0-9]{1,6})")
_URL_VCT = re.compile(r"https?://[^/?#\s]+(?:/[^?#\s]*)?/schemas/([a-z0-9][a-z0-9._-]{0,79})\.json")
_REF_KEYWORDS = ("$ref", "$dynamicRef")
_RESERVED_TERMS = {
    "VerifiableCredential",
    "VerifiablePresentation",
    "EnvelopedVerifiableCredential",
}


def credential_type_id(vct: str) -> bytes:
    """The on-chain identifier of a type: keccak256 of its URI (UTF-8)."""
    return bytes(keccak(vct.encode("utf-8")))


def schema_digest(schema: Mapping[str, Any]) -> bytes:
    """SHA-256 of a schema's RFC 8785 canonical JSON (the digest committed on chain).

    Raises `FormatError` when the schema is larger than `MAX_SCHEMA_BYTES` or not I-JSON."""
    canonical = canonicalize(schema)
    if len(canonical) > MAX_SCHEMA_BYTES:
        raise FormatError(f"schema is {len(canonical)} bytes, more than {MAX_SCHEMA_BYTES}")
    return hashlib.sha256(canonical).digest()


def _schema_name(vct: str) -> str | None:
    urn = _URN_VCT.fullmatch(vct)
    if urn:
        return f"{urn.group(1)}-{urn.group(2)}.json"
    url = _URL_VCT.fullmatch(vct)
    return f"{url.group(1)}.json" if url else None


def schema_url(vct: str, base_url: str) -> str:
    """Where the service at `base_url` serves the schema of the type `vct`: the ``$id``
    itself when it is an http(s) URL, ``{base_url}/schemas/<name>-<version>.json`` for a
    ``urn:hrss:vct:<name>:<version>``. Raises `FormatError` for any other ``$id``."""
    name = _schema_name(vct)
    if name is None:
        raise FormatError(f"type URI {vct!r} names no schema location")
    if vct.startswith(("https://", "http://")):
        return vct
    return f"{base_url.rstrip('/')}/schemas/{name}"


def _check_self_contained(schema: Mapping[str, Any], term: str) -> None:
    """Refuse a schema that is too deep, declares another draft, or refers outside itself."""
    declared = schema.get("$schema", JSON_SCHEMA_2020_12)
    if declared != JSON_SCHEMA_2020_12:
        raise FormatError(f"schema of {term} must be JSON Schema draft 2020-12, not {declared!r}")
    pending: list[tuple[Any, int]] = [(schema, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_SCHEMA_DEPTH:
            raise FormatError(f"schema of {term} nests deeper than {MAX_SCHEMA_DEPTH} levels")
        if isinstance(node, Mapping):
            for keyword in _REF_KEYWORDS:
                ref = node.get(keyword)
                if ref is not None and (not isinstance(ref, str) or not ref.startswith("#")):
                    raise FormatError(
                        f"schema of {term} refers outside itself ({keyword} {ref!r}): "
                        "only references inside the document ('#...') are allowed"
                    )
            if depth > 1 and isinstance(node.get("$id"), str):
                raise FormatError(f"schema of {term} may not embed resources with their own $id")
            pending.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            pending.extend((child, depth + 1) for child in node)


def fetch_type_schema(
    url: str,
    committed_digest: bytes,
    *,
    get: Callable[[str], bytes] | None = None,
    timeout: float = 10.0,
) -> CredentialType:
    """Fetch a credential type's schema from `url` and check it against the digest the
    Ministry committed on chain (``TrustRegistry.credentialTypeSchema``), failing closed.

    `get` fetches the bytes (default: an HTTP GET, redirects not followed, at most
    `MAX_SCHEMA_BYTES` read). Raises `VerificationError` with check ``schema_digest`` when
    the schema cannot be fetched or read, is not a valid type schema, its ``$id`` does not
    lead to `url`'s file, or its digest is not the committed one.
    """
    if len(committed_digest) != 32 or not any(committed_digest):
        raise VerificationError("schema_digest", "no committed schema digest to check against")
    try:
        body = (get or partial(_http_get, timeout=timeout))(url)
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as err:
        raise VerificationError("schema_digest", f"cannot fetch {url}: {err}") from err
    if len(body) > 4 * MAX_SCHEMA_BYTES:  # before parsing; canonical form is checked below
        raise VerificationError("schema_digest", f"{url} is larger than a schema may be")
    try:
        check_json_depth(body, what="credential type schema", limit=MAX_SCHEMA_DEPTH)
        credential_type = CredentialType.from_schema(body.decode("utf-8"))
    except (FormatError, UnicodeDecodeError) as err:
        raise VerificationError("schema_digest", f"{url} is not a type schema: {err}") from err
    if not hmac.compare_digest(credential_type.schema_digest, committed_digest):
        raise VerificationError(
            "schema_digest",
            f"{url} has digest {credential_type.schema_digest.hex()}, "
            f"not the committed {committed_digest.hex()}",
        )
    name = credential_type.schema_name
    served_at = credential_type.vct if credential_type.vct.startswith("http") else None
    if name is None or (url != served_at if served_at else not url.endswith("/schemas/" + name)):
        raise VerificationError(
            "schema_digest", f"the schema's $id {credential_type.vct!r} is not served at {url}"
        )
    return credential_type


def _http_get(url: str, *, timeout: float) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise httpx.InvalidURL(f"not an http(s) URL: {url}")
    with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
        response.raise_for_status()
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > 4 * MAX_SCHEMA_BYTES:
                raise VerificationError("schema_digest", f"{url} is larger than a schema may be")
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class CredentialType:
    """A credential type, validated when built.

    Raises `FormatError` when the schema is not a valid draft 2020-12 object schema (or is
    too large, too deep, or refers outside itself), the term is not a VC type term, a personal
    identifier is not one of the schema's properties, a disclosable path is not a JSON Pointer
    under one of them, or a format is not one of `CREDENTIAL_FORMATS`.
    """

    term: str
    vct: str
    title: str
    schema: Mapping[str, Any] = field(repr=False)
    personal_identifiers: tuple[str, ...] = ()
    disclosable: tuple[str, ...] = ()
    formats: tuple[str, ...] = CREDENTIAL_FORMATS
    _disclosable_paths: frozenset[ClaimPath] = field(init=False, repr=False, compare=False)
    _validator: Any = field(init=False, repr=False, compare=False)
    _relaxed: Any = field(init=False, repr=False, compare=False)
    _fast: Any = field(init=False, repr=False, compare=False)
    _type_id: bytes = field(init=False, repr=False, compare=False)
    _schema_digest: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.term, str) or not _TERM.fullmatch(self.term):
            raise FormatError(f"type term {self.term!r} must be an UpperCamelCase word")
        if self.term in _RESERVED_TERMS:
            raise FormatError(f"type term {self.term!r} is reserved by the VC data model")
        if not isinstance(self.vct, str) or ":" not in self.vct or len(self.vct) > 256:
            raise FormatError(f"type URI {self.vct!r} must be an absolute URI")
        if not isinstance(self.schema, Mapping) or self.schema.get("type") != "object":
            raise FormatError(f"schema of {self.term} must describe an object")
        properties = self.schema.get("properties")
        if not isinstance(properties, Mapping):
            raise FormatError(f"schema of {self.term} has no properties")
        for name in self.personal_identifiers:
            if name not in properties:
                raise FormatError(f"personal identifier {name!r} is not a property of {self.term}")
        paths: set[ClaimPath] = {(name,) for name in self.personal_identifiers}
        for text in self.disclosable or properties:
            path = parse_path(text)
            if path[0] not in properties:
                raise FormatError(
                    f"disclosable path {text!r} is not under a property of {self.term}"
                )
            paths.add(path)
        object.__setattr__(self, "_disclosable_paths", frozenset(paths))
        if not self.formats or not set(self.formats) <= set(CREDENTIAL_FORMATS):
            raise FormatError(
                f"formats of {self.term} must be some of {', '.join(CREDENTIAL_FORMATS)}"
            )
        schema = dict(self.schema)
        _check_self_contained(schema, self.term)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as err:
            raise FormatError(f"schema of {self.term} is invalid: {err.message}") from err
        relaxed = {k: v for k, v in schema.items() if k != "required"}
        object.__setattr__(self, "_validator", jsonschema.Draft202012Validator(schema))
        object.__setattr__(self, "_relaxed", jsonschema.Draft202012Validator(relaxed))
        object.__setattr__(self, "_fast", _compile_object_schema(schema))
        object.__setattr__(self, "_type_id", credential_type_id(self.vct))
        object.__setattr__(self, "_schema_digest", schema_digest(schema))

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any] | str) -> CredentialType:
        """Build a type from its schema document (object or JSON text). Raises `FormatError`."""
        if isinstance(schema, str):
            schema = load_json(schema, what="credential type schema")
        if not isinstance(schema, Mapping):
            raise FormatError("credential type schema must be a JSON object")
        identifiers = schema.get("x-hrss-personal-identifiers", [])
        if not isinstance(identifiers, list) or not all(isinstance(i, str) for i in identifiers):
            raise FormatError("x-hrss-personal-identifiers must be a list of claim names")
        disclosable = schema.get("x-hrss-disclosable", [])
        if not isinstance(disclosable, list) or not all(isinstance(p, str) for p in disclosable):
            raise FormatError("x-hrss-disclosable must be a list of JSON Pointers")
        formats = schema.get("x-hrss-formats", list(CREDENTIAL_FORMATS))
        if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
            raise FormatError("x-hrss-formats must be a list of media types")
        term, vct = schema.get("x-hrss-type"), schema.get("$id")
        if not isinstance(term, str) or not isinstance(vct, str):
            raise FormatError("a type schema needs string members 'x-hrss-type' and '$id'")
        title = schema.get("title", term)
        return cls(
            term=term,
            vct=vct,
            title=str(title),
            schema=schema,
            personal_identifiers=tuple(identifiers),
            disclosable=tuple(disclosable),
            formats=tuple(formats),
        )

    @property
    def type_id(self) -> bytes:
        """The bytes32 `TrustRegistry` accredits issuers for."""
        return self._type_id

    @property
    def schema_digest(self) -> bytes:
        """SHA-256 of the schema's RFC 8785 canonical JSON: what the Ministry commits on chain."""
        return self._schema_digest

    @property
    def schema_name(self) -> str | None:
        """The file name the schema is served under (``/schemas/<name>``), from its ``$id``;
        ``None`` when the ``$id`` has neither served form."""
        return _schema_name(self.vct)

    @property
    def claim_names(self) -> frozenset[str]:
        """Names of the subject claims the schema allows."""
        return frozenset(self.schema["properties"])

    @property
    def disclosable_paths(self) -> frozenset[ClaimPath]:
        """The claim paths (reference tokens, ``*`` for any index) an issuer may make
        selectively disclosable: ``x-hrss-disclosable`` (default every top-level property)
        and the personal identifiers."""
        return self._disclosable_paths

    def validate_subject(self, subject: Mapping[str, Any], *, partial: bool = False) -> None:
        """Check a ``credentialSubject`` against the schema.

        With `partial` (a selective disclosure), required claims may be missing but every claim
        present must still match. Raises `FormatError` naming the first violation.
        """
        fast = self._fast
        if fast is not None and fast(subject, partial):
            return
        validator = self._relaxed if partial else self._validator
        errors = sorted(validator.iter_errors(dict(subject)), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(subject)"
            raise FormatError(f"{self.term} subject invalid at {where}: {first.message}")


_FAST_OBJECT_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "title",
        "description",
        "type",
        "properties",
        "required",
        "additionalProperties",
    }
)
_FAST_PROPERTY_KEYWORDS = frozenset(
    {"type", "minLength", "maxLength", "pattern", "minimum", "maximum", "enum", "description"}
)


def _compile_property(spec: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """One closure per property, its bounds bound as locals: this runs for every claim of
    every credential verified, so it avoids a chain of small checks."""
    if not isinstance(spec, Mapping) or set(spec) - _FAST_PROPERTY_KEYWORDS:
        return None
    kind = spec.get("type")
    options = tuple(spec["enum"]) if "enum" in spec else None

    def in_enum(v: Any) -> bool:
        return options is None or any(type(v) is type(o) and v == o for o in options)

    if kind == "string":
        # JSON Schema counts code points, as len() does.
        lo = int(spec.get("minLength") or 0)
        hi = int(spec["maxLength"]) if spec.get("maxLength") is not None else None
        search = re.compile(spec["pattern"]).search if "pattern" in spec else None

        def check_string(v: Any) -> bool:
            return (
                isinstance(v, str)
                and lo <= len(v)
                and (hi is None or len(v) <= hi)
                and (search is None or search(v) is not None)
                and in_enum(v)
            )

        return check_string
    if kind == "integer":
        minimum, maximum = spec.get("minimum"), spec.get("maximum")

        def check_integer(v: Any) -> bool:
            return (
                type(v) is int
                and (minimum is None or v >= minimum)
                and (maximum is None or v <= maximum)
                and in_enum(v)
            )

        return check_integer
    if kind is None and options is not None:
        return in_enum
    return None


def _compile_object_schema(
    schema: Mapping[str, Any],
) -> Callable[[Mapping[str, Any], bool], bool] | None:
    """A fast yes/no check for the common schema subset (flat objects of strings, integers
    and enums). ``None`` when the schema uses anything else: jsonschema then does all the
    work. A "no" is always re-checked by jsonschema, which produces the message."""
    keywords = {k for k in schema if not k.startswith("x-")}  # x-: annotations only
    if keywords - _FAST_OBJECT_KEYWORDS or schema.get("additionalProperties") is not False:
        return None
    properties: dict[str, Callable[[Any], bool]] = {}
    for name, spec in schema["properties"].items():
        compiled = _compile_property(spec)
        if compiled is None:
            return None
        properties[name] = compiled
    required = frozenset(schema.get("required", ()))

    def check(subject: object, partial: bool) -> bool:  # callers pass parsed JSON
        if not isinstance(subject, Mapping):
            return False
        if not partial and not required <= subject.keys():
            return False
        for name, value in subject.items():
            checker = properties.get(name)
            if checker is None or not checker(value):
                return False
        return True

    return check


class CredentialTypeRegistry:
    """The credential types a verifier or issuer knows, by term, URI and on-chain id.

    With `resolve`, a term not yet known is looked up through it (e.g. in the service's
    database, where another worker may have published it) and kept: a read-through registry.
    `resolve` returns ``None`` for an unknown term and may raise only `FormatError`.
    """

    def __init__(
        self,
        types: Iterable[CredentialType] = (),
        *,
        resolve: Callable[[str], CredentialType | None] | None = None,
    ) -> None:
        self._by_term: dict[str, CredentialType] = {}
        self._by_vct: dict[str, CredentialType] = {}
        self._by_id: dict[bytes, CredentialType] = {}
        self._resolve = resolve
        self._lock = threading.Lock()
        for credential_type in types:
            self.register(credential_type)

    def _lookup(self, term: object) -> CredentialType | None:
        found = self._by_term.get(term) if isinstance(term, str) else None
        if found is not None or self._resolve is None or not isinstance(term, str):
            return found
        if term in _RESERVED_TERMS or not _TERM.fullmatch(term):
            return None
        resolved = self._resolve(term)
        if resolved is None or resolved.term != term:
            return None
        with self._lock:
            known = self._by_term.get(term)
            if known is not None:
                return known
            return self.register(resolved)

    @classmethod
    def from_directory(cls, path: Path) -> CredentialTypeRegistry:
        """Every ``*.json`` schema in `path`. Raises `FormatError` on an unreadable schema."""
        registry = cls()
        for file in sorted(Path(path).glob("*.json")):
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as err:
                raise FormatError(f"cannot read {file}: {err}") from err
            registry.register_schema(text)
        return registry

    def register(self, credential_type: CredentialType) -> CredentialType:
        """Add a type. Raises `FormatError` when its term or URI is already taken."""
        if credential_type.term in self._by_term or credential_type.vct in self._by_vct:
            raise FormatError(f"credential type {credential_type.term} is already registered")
        self._by_term[credential_type.term] = credential_type
        self._by_vct[credential_type.vct] = credential_type
        self._by_id[credential_type.type_id] = credential_type
        return credential_type

    def register_schema(self, schema: Mapping[str, Any] | str) -> CredentialType:
        """Add a type from its schema document (no code change needed). Raises `FormatError`."""
        return self.register(CredentialType.from_schema(schema))

    def get(self, term: str) -> CredentialType:
        """The type with this VC term. Raises `FormatError` when unknown."""
        found = self._lookup(term)
        if found is None:
            raise FormatError(f"unknown credential type {term!r}")
        return found

    def by_vct(self, vct: str) -> CredentialType:
        """The type with this URI. Raises `FormatError` when unknown."""
        try:
            return self._by_vct[vct]
        except KeyError as err:
            raise FormatError(f"unknown credential type URI {vct!r}") from err

    def by_type_id(self, type_id: bytes) -> CredentialType:
        """The type with this on-chain id. Raises `FormatError` when unknown."""
        try:
            return self._by_id[bytes(type_id)]
        except KeyError as err:
            raise FormatError(f"unknown credential type id 0x{bytes(type_id).hex()}") from err

    def from_vc_types(self, types: Iterable[str]) -> CredentialType:
        """The one registered type among a VC's ``type`` values.

        Raises `FormatError` when none or more than one is registered.
        """
        by_term = self._by_term
        found = [by_term[t] for t in types if isinstance(t, str) and t in by_term]
        if self._resolve is not None:  # the terms not known yet, read through
            unknown = [t for t in types if isinstance(t, str) and t not in by_term]
            found += [r for r in map(self._lookup, unknown) if r is not None]
        if len(found) != 1:
            raise FormatError("credential must name exactly one registered credential type")
        return found[0]

    def __iter__(self) -> Iterator[CredentialType]:
        return iter(list(self._by_term.values()))

    def __contains__(self, term: object) -> bool:
        if term in self._by_term:
            return True
        return self._resolve is not None and self._lookup(term) is not None

    def __len__(self) -> int:
        return len(self._by_term)


@cache
def _builtin_schemas() -> tuple[str, ...]:
    folder = resources.files("wallet_sdk.credentials").joinpath("schemas")
    return tuple(
        entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    )


def default_registry() -> CredentialTypeRegistry:
    """A fresh registry with the built-in types: skill certificate, diploma, professional
    title and training record."""
    registry = CredentialTypeRegistry()
    for text in _builtin_schemas():
        registry.register_schema(text)
    return registry
