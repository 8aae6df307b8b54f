"""Credential types as data: the built-in schemas, and new types without code changes."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, SKILL_SUBJECT
from wallet_sdk.credentials import (
    DIPLOMA,
    PROFESSIONAL_TITLE,
    SKILL_CERTIFICATE,
    SOCIAL_SECURITY_CARD,
    TRAINING_RECORD,
    CredentialType,
    CredentialTypeRegistry,
    credential_type_id,
    default_registry,
    fetch_type_schema,
    schema_digest,
    schema_url,
)
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jcs import canonicalize

ASSETS = Path(__file__).parents[3] / "assets" / "credentials"


def test_builtin_types() -> None:
    registry = default_registry()
    assert {t.term for t in registry} == {
        SKILL_CERTIFICATE,
        DIPLOMA,
        PROFESSIONAL_TITLE,
        TRAINING_RECORD,
        SOCIAL_SECURITY_CARD,
    }
    skill = registry.get(SKILL_CERTIFICATE)
    assert skill.type_id == credential_type_id(skill.vct) == registry.by_vct(skill.vct).type_id
    assert registry.by_type_id(skill.type_id) is skill
    assert set(skill.personal_identifiers) == {"name", "idNumber"}
    skill.validate_subject(SKILL_SUBJECT)
    registry.get(DIPLOMA).validate_subject(DIPLOMA_SUBJECT)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"level": 6}, "level"),
        ({"level": "3"}, "level"),
        ({"level": True}, "level"),
        ({"occupationCode": "4-01-02"}, "occupationCode"),
        ({"occupationCode": "9-01-02-01"}, "occupationCode"),
        ({"idNumber": "1101051990030712"}, "idNumber"),
        ({"unexpected": 1}, "(subject)"),
    ],
)
def test_skill_certificate_schema_rejects(change: dict[str, object], where: str) -> None:
    skill = default_registry().get(SKILL_CERTIFICATE)
    with pytest.raises(FormatError, match=where.replace("(", r"\(").replace(")", r"\)")):
        skill.validate_subject({**SKILL_SUBJECT, **change})


def test_partial_subjects_for_selective_disclosure() -> None:
    skill = default_registry().get(SKILL_CERTIFICATE)
    skill.validate_subject({"level": 2}, partial=True)
    with pytest.raises(FormatError, match="required"):
        skill.validate_subject({"level": 2})
    with pytest.raises(FormatError, match="level"):
        skill.validate_subject({"level": 0}, partial=True)


def test_new_type_registered_as_data(tmp_path: Path) -> None:
    schema = json.loads((ASSETS / "safety-officer-certificate.schema.json").read_text())
    registry = default_registry()
    added = registry.register_schema(schema)
    assert added.term == "SafetyOfficerCertificate" and "SafetyOfficerCertificate" in registry
    added.validate_subject({"name": "李四", "idNumber": "44030519851201002X", "category": "A"})
    with pytest.raises(FormatError):
        added.validate_subject({"name": "李四", "idNumber": "44030519851201002X", "category": "Z"})
    with pytest.raises(FormatError, match="already registered"):
        registry.register_schema(schema)
    (tmp_path / "x.json").write_text(json.dumps(schema))
    assert [t.term for t in CredentialTypeRegistry.from_directory(tmp_path)] == [
        "SafetyOfficerCertificate"
    ]


@pytest.mark.parametrize(
    "broken",
    [
        {"x-hrss-type": "lowercase", "$id": "urn:x:1", "type": "object", "properties": {}},
        {
            "x-hrss-type": "VerifiableCredential",
            "$id": "urn:x:1",
            "type": "object",
            "properties": {},
        },
        {"x-hrss-type": "Thing", "$id": "no-colon", "type": "object", "properties": {}},
        {"x-hrss-type": "Thing", "$id": "urn:x:1", "type": "array", "properties": {}},
        {
            "x-hrss-type": "Thing",
            "$id": "urn:x:1",
            "type": "object",
            "properties": {},
            "x-hrss-personal-identifiers": ["idNumber"],
        },
        {
            "x-hrss-type": "Thing",
            "$id": "urn:x:1",
            "type": "object",
            "properties": {"a": {"type": "nonsense"}},
        },
    ],
)
def test_malformed_type_schemas_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises(FormatError):
        CredentialTypeRegistry().register_schema(broken)
    with pytest.raises(FormatError):
        default_registry().get("Nope")


# -- types published at run time: bounded, self-contained schemas, committed digests ----------


def _thing(**extra: object) -> dict[str, object]:
    return {
        "x-hrss-type": "Thing",
        "$id": "urn:hrss:vct:thing:1",
        "type": "object",
        "properties": {"a": {"type": "string"}},
        **extra,
    }


def _nested(depth: int) -> dict[str, object]:
    node: dict[str, object] = {"type": "string"}
    for _ in range(depth):
        node = {"type": "object", "properties": {"x": node}}
    return node


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        (_thing(properties={"a": {"$ref": "https://evil.example/s.json"}}), "refers outside"),
        (_thing(properties={"a": {"$ref": "other.json#/x"}}), "refers outside"),
        (_thing(properties={"a": {"$dynamicRef": "https://evil.example/s"}}), "refers outside"),
        (_thing(**{"$schema": "http://json-schema.org/draft-07/schema#"}), "draft 2020-12"),
        (_thing(properties={"a": _nested(20)}), "deeper than 16"),
        (_thing(properties={"a": {"enum": ["x" * 1000] * 70}}), "more than 65536"),
        (_thing(**{"x-hrss-formats": ["ldp_vc"]}), "formats of Thing"),
        (_thing(**{"x-hrss-formats": []}), "formats of Thing"),
        (_thing(properties={"a": {"$id": "https://evil.example/a"}}), "own $id"),
    ],
)
def test_unbounded_or_remote_schemas_are_refused(broken: dict[str, object], words: str) -> None:
    with pytest.raises(FormatError, match=re.escape(words)):
        CredentialTypeRegistry().register_schema(broken)


def test_a_local_ref_and_a_format_list_are_kept() -> None:
    schema = _thing(
        **{"$defs": {"s": {"type": "string"}}, "x-hrss-formats": ["vc+sd-jwt"]},
        properties={"a": {"$ref": "#/$defs/s"}},
    )
    thing = CredentialTypeRegistry().register_schema(schema)
    assert thing.formats == ("vc+sd-jwt",)
    thing.validate_subject({"a": "x"})
    with pytest.raises(FormatError):
        thing.validate_subject({"a": 1})
    assert default_registry().get(SKILL_CERTIFICATE).formats == ("vc+jwt", "vc+sd-jwt")


def test_the_schema_digest_is_sha256_of_the_rfc8785_form() -> None:
    schema = json.loads((ASSETS / "safety-officer-certificate.schema.json").read_text())
    added = CredentialTypeRegistry().register_schema(schema)
    assert added.schema_digest == hashlib.sha256(canonicalize(schema)).digest()
    assert added.schema_digest == schema_digest(json.loads(json.dumps(schema, indent=4)))
    reordered = dict(reversed(list(schema.items())))
    assert CredentialTypeRegistry().register_schema(reordered).schema_digest == added.schema_digest


def test_where_a_schema_is_served() -> None:
    base = "https://hrss.example"
    skill = default_registry().get(SKILL_CERTIFICATE)
    assert skill.schema_name == "vocational-skill-certificate-1.json"
    assert (
        schema_url(skill.vct, base + "/") == base + "/schemas/vocational-skill-certificate-1.json"
    )
    url = base + "/schemas/welder.json"
    assert schema_url(url, "https://elsewhere.example") == url
    with pytest.raises(FormatError, match="names no schema location"):
        schema_url("urn:x:1", base)
    assert (
        CredentialTypeRegistry().register_schema(_thing(**{"$id": "urn:x:1"})).schema_name is None
    )


def test_a_read_through_registry_resolves_unknown_terms_once() -> None:
    asked: list[str] = []
    thing = CredentialTypeRegistry().register_schema(_thing())

    def resolve(term: str) -> CredentialType | None:
        asked.append(term)
        return thing if term == "Thing" else None

    registry = CredentialTypeRegistry(resolve=resolve)
    assert registry.from_vc_types(["VerifiableCredential", "Thing"]) is thing
    assert "Thing" in registry and registry.get("Thing") is thing
    assert "Other" not in registry
    assert asked == ["Thing", "Other"]  # reserved terms are never asked for, known ones once


class _Schemas(ThreadingHTTPServer):
    bodies: dict[str, bytes]


class _Handler(BaseHTTPRequestHandler):
    server: _Schemas

    def do_GET(self) -> None:
        body = self.server.bodies.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/schema+json")
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def schema_server() -> Iterator[_Schemas]:
    """A real HTTP server on loopback that serves what a test puts in ``bodies``."""
    server = _Schemas(("127.0.0.1", 0), _Handler)
    server.bodies = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_verifier_fetches_a_schema_and_checks_the_committed_digest(
    schema_server: _Schemas,
) -> None:
    base = f"http://127.0.0.1:{schema_server.server_address[1]}"
    schema = _thing(**{"$id": base + "/schemas/thing.json"})
    committed = schema_digest(schema)
    schema_server.bodies["/schemas/thing.json"] = json.dumps(schema, indent=2).encode()
    fetched = fetch_type_schema(base + "/schemas/thing.json", committed)
    assert fetched.term == "Thing" and fetched.schema_digest == committed
    # The built-in form, served under its name.
    skill = default_registry().get(SKILL_CERTIFICATE)
    schema_server.bodies["/schemas/" + str(skill.schema_name)] = canonicalize(dict(skill.schema))
    url = schema_url(skill.vct, base)
    assert fetch_type_schema(url, skill.schema_digest).vct == skill.vct


def test_fetching_a_schema_fails_closed(schema_server: _Schemas) -> None:
    base = f"http://127.0.0.1:{schema_server.server_address[1]}"
    url = base + "/schemas/thing.json"
    schema = _thing(**{"$id": url})
    committed = schema_digest(schema)
    tampered = _thing(**{"$id": url}, properties={"a": {"type": "integer"}})
    schema_server.bodies["/schemas/thing.json"] = json.dumps(tampered).encode()
    cases = [
        (url, committed, "not the committed"),
        (base + "/schemas/missing.json", committed, "cannot fetch"),
        (url, bytes(32), "no committed schema digest"),
        ("file:///etc/passwd", committed, "cannot fetch"),
    ]
    for where, digest, words in cases:
        with pytest.raises(VerificationError, match=words) as caught:
            fetch_type_schema(where, digest)
        assert caught.value.check == "schema_digest"
    schema_server.bodies["/schemas/other.json"] = json.dumps(schema).encode()
    with pytest.raises(VerificationError, match="is not served at"):
        fetch_type_schema(base + "/schemas/other.json", committed)
    schema_server.bodies["/schemas/junk.json"] = b"[" * 100
    with pytest.raises(VerificationError, match="not a type schema"):
        fetch_type_schema(base + "/schemas/junk.json", committed)
