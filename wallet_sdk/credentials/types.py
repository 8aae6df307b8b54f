"""Credential types: a registry of types, each defined by a JSON Schema file.

A type is data, not code: a JSON Schema (draft 2020-12) for the ``credentialSubject`` with
three extra members,

``$id``                          the type's URI; also the SD-JWT ``vct`` and the schema id
``x-hrss-type``                  the VC ``type`` term (e.g. ``VocationalSkillCertificate``)
``x-hrss-personal-identifiers``  subject claims that are always selectively disclosable
``x-hrss-disclosable``           JSON Pointers (RFC 6901, ``*`` for any array index) of the
                                 subject claims an issuer may make selectively disclosable,
                                 at any depth; default: every top-level property

The built-in types live in ``wallet_sdk/credentials/schemas/``;
`CredentialTypeRegistry.register_schema` adds a new type at run time. On chain a type is
``keccak256(utf8($id))`` (`CredentialType.type_id`), the value
`TrustRegistry.setCredentialType` accredits an issuer for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from eth_hash.auto import keccak

from wallet_sdk.credentials._sd_jwt import Path as ClaimPath
from wallet_sdk.credentials._sd_jwt import parse_path
from wallet_sdk.errors import FormatError
from wallet_sdk.nesting import load_json

__all__ = [
    "DIPLOMA",
    "PROFESSIONAL_TITLE",
    "SKILL_CERTIFICATE",
    "TRAINING_RECORD",
    "CredentialType",
    "CredentialTypeRegistry",
    "credential_type_id",
    "default_registry",
]

SKILL_CERTIFICATE = "VocationalSkillCertificate"
DIPLOMA = "TechnicalSchoolDiploma"
PROFESSIONAL_TITLE = "ProfessionalTitle"
TRAINING_RECORD = "TrainingRecord"

_TERM = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
_RESERVED_TERMS = {
    "VerifiableCredential",
    "VerifiablePresentation",
    "EnvelopedVerifiableCredential",
}


def credential_type_id(vct: str) -> bytes:
    """The on-chain identifier of a type: keccak256 of its URI (UTF-8)."""
    return bytes(keccak(vct.encode("utf-8")))


@dataclass(frozen=True, slots=True)
class CredentialType:
    """A credential type, validated when built.

    Raises `FormatError` when the schema is not a valid draft 2020-12 object schema, the term
    is not a VC type term, a personal identifier is not one of the schema's properties, or a
    disclosable path is not a JSON Pointer under one of them.
    """

    term: str
    vct: str
    title: str
    schema: Mapping[str, Any] = field(repr=False)
    personal_identifiers: tuple[str, ...] = ()
    disclosable: tuple[str, ...] = ()
    _disclosable_paths: frozenset[ClaimPath] = field(init=False, repr=False, compare=False)
    _validator: Any = field(init=False, repr=False, compare=False)
    _relaxed: Any = field(init=False, repr=False, compare=False)
    _fast: Any = field(init=False, repr=False, compare=False)
    _type_id: bytes = field(init=False, repr=False, compare=False)

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
        schema = dict(self.schema)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as err:
            raise FormatError(f"schema of {self.term} is invalid: {err.message}") from err
        relaxed = {k: v for k, v in schema.items() if k != "required"}
        object.__setattr__(self, "_validator", jsonschema.Draft202012Validator(schema))
        object.__setattr__(self, "_relaxed", jsonschema.Draft202012Validator(relaxed))
        object.__setattr__(self, "_fast", _compile_object_schema(schema))
        object.__setattr__(self, "_type_id", credential_type_id(self.vct))

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
        )

    @property
    def type_id(self) -> bytes:
        """The bytes32 `TrustRegistry` accredits issuers for."""
        return self._type_id

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
    """The credential types a verifier or issuer knows, by term, URI and on-chain id."""

    def __init__(self, types: Iterable[CredentialType] = ()) -> None:
        self._by_term: dict[str, CredentialType] = {}
        self._by_vct: dict[str, CredentialType] = {}
        self._by_id: dict[bytes, CredentialType] = {}
        for credential_type in types:
            self.register(credential_type)

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
        try:
            return self._by_term[term]
        except KeyError as err:
            raise FormatError(f"unknown credential type {term!r}") from err

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
        found = [self._by_term[t] for t in types if isinstance(t, str) and t in self._by_term]
        if len(found) != 1:
            raise FormatError("credential must name exactly one registered credential type")
        return found[0]

    def __iter__(self) -> Iterator[CredentialType]:
        return iter(list(self._by_term.values()))

    def __contains__(self, term: object) -> bool:
        return term in self._by_term

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
