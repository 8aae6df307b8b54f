"""Credential types as data: the built-in schemas, and new types without code changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.credentials.world import DIPLOMA_SUBJECT, SKILL_SUBJECT
from wallet_sdk.credentials import (
    DIPLOMA,
    PROFESSIONAL_TITLE,
    SKILL_CERTIFICATE,
    SOCIAL_SECURITY_CARD,
    TRAINING_RECORD,
    CredentialTypeRegistry,
    credential_type_id,
    default_registry,
)
from wallet_sdk.errors import FormatError

ASSETS = Path(__file__).parents[2] / "assets" / "credentials"


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
