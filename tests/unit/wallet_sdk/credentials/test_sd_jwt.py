"""RFC 9901 in full: disclosures at any depth (object properties, array elements, recursive),
decoys, per-type and per-request disclosable paths, the holder's choice at any depth, the JSON
serialization, and every §7.1 rule the verifier enforces, each with its error message."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.wallet_sdk.credentials import forge
from tests.unit.wallet_sdk.credentials.world import (
    RECORD_PATHS,
    RECORD_SUBJECT,
    DemoIssuer,
    TrustWorld,
)
from wallet_sdk.credentials import (
    CredentialType,
    CredentialVerificationError,
    CredentialVerifier,
    IssuanceError,
    IssuedCredential,
    PresentationError,
    build_credential,
    disclosable_paths,
    disclosed_claim_names,
    present_sd_jwt,
)
from wallet_sdk.credentials._model import credential_digest, sha256_b64
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Jwk, b64url_decode, b64url_encode

ASSETS = Path(__file__).parents[3] / "assets" / "credentials"
RFC = json.loads((ASSETS / "rfc9901_examples.json").read_text(encoding="utf-8"))
AUDIENCE = "https://verifier.example"


def forged(
    world: TrustWorld,
    assessor: DemoIssuer,
    record_type: CredentialType,
    sd_holder: Jwk,
    subject: dict[str, Any],
    credential_id: bytes,
    **top: Any,
) -> str:
    """An issuer-signed SD-JWT whose ``credentialSubject`` is `subject` as given (digests and
    all), signed with the assessor's registered key and registered on StatusRegistry."""
    claims = build_credential(
        credential_type=record_type,
        subject={"given_name": "x", "family_name": "y"},
        issuer_id=assessor.entity_id,
        credential_id=credential_id,
        status_registry=world.status_registry,
        issued_at=world.now(),
        holder_key=sd_holder,
    )
    claims["credentialSubject"] = subject
    claims["_sd_alg"] = "sha-256"
    claims.update(top)
    header = {"alg": "ES256", "kid": assessor.key.thumbprint_b64(), "typ": "vc+sd-jwt"}
    token = forge.sign(header, claims, assessor.key)
    world.clients.status_registry.register(
        assessor.controller,
        issuer=assessor.entity_id,
        credential_ids=[credential_id],
        digests=[credential_digest(token.split("~")[0])],
    )
    return token


def subject_of(verifier: CredentialVerifier, world: TrustWorld, token: str) -> dict[str, Any]:
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_credential(token, as_of=world.now())
    assert report.credential is not None
    return dict(report.credential.subject)


def presented_subject(
    verifier: CredentialVerifier, world: TrustWorld, token: str, sd_holder: Jwk, disclose: list[str]
) -> dict[str, Any]:
    presentation = present_sd_jwt(
        token,
        disclose=disclose,
        holder_key=sd_holder,
        nonce="n",
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_presentation(
        presentation, nonce="n", audience=AUDIENCE, as_of=world.now()
    )
    credential = report.credentials[0].credential
    assert report.passed and credential is not None
    return dict(credential.subject)


def rejected(verifier: CredentialVerifier, world: TrustWorld, token: str, words: str) -> None:
    verifier.trust.refresh()  # type: ignore[attr-defined]
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(token, as_of=world.now())
    assert err.value.check == "format", err.value
    assert words in err.value.message, err.value.message


def disclosure(*contents: Any) -> str:
    return b64url_encode(json.dumps(list(contents)).encode())


# -- the RFC's own examples ---------------------------------------------------------------


def test_rfc9901_example_disclosures_hash_to_the_printed_digests() -> None:
    for example in RFC["object_properties"] + RFC["nationalities"]:
        assert json.loads(b64url_decode(example["disclosure"])) == example["contents"]
        assert sha256_b64(example["disclosure"]) == example["digest"]


def test_rfc9901_example_object_and_array_digests_resolve_and_present_at_any_depth(
    world: TrustWorld,
    assessor: DemoIssuer,
    record_type: CredentialType,
    sd_holder: Jwk,
    verifier: CredentialVerifier,
) -> None:
    # The payload layout of RFC 9901 §5.1: given and family name in _sd, nationalities as
    # array element digests {"...": digest}, with the specification's own disclosures.
    names, nationalities = RFC["object_properties"], RFC["nationalities"]
    subject = {
        "_sd": [n["digest"] for n in names],
        "nationalities": [{"...": n["digest"]} for n in nationalities],
    }
    jwt = forged(world, assessor, record_type, sd_holder, subject, b"\x51" * 32)
    token = "~".join([jwt, *(e["disclosure"] for e in names + nationalities)]) + "~"
    assert subject_of(verifier, world, token) == {
        "given_name": "John",
        "family_name": "Doe",
        "nationalities": ["US", "DE"],
    }
    assert disclosable_paths(token) == [
        "/given_name",
        "/family_name",
        "/nationalities/0",
        "/nationalities/1",
    ]
    assert disclosed_claim_names(token) == ["given_name", "family_name"]
    # Only DE: the US element is dropped, as RFC 9901 §7.1 step 4.2.3 says.
    assert presented_subject(verifier, world, token, sd_holder, ["/nationalities/1"]) == {
        "nationalities": ["DE"]
    }


# -- issuing at any depth -----------------------------------------------------------------


def test_nested_array_and_recursive_disclosures_round_trip(
    world: TrustWorld,
    issue_record: Callable[..., IssuedCredential],
    sd_holder: Jwk,
    verifier: CredentialVerifier,
) -> None:
    issued = issue_record(RECORD_PATHS)
    assert subject_of(verifier, world, issued.token) == RECORD_SUBJECT
    _, payload, _ = forge.split(issued.issuer_signed_jwt)
    plain = payload["credentialSubject"]
    # address is one digest of the subject's _sd; the subject keeps only birthdate plain.
    assert set(plain) == {"_sd", "birthdate", "nationalities", "employments"}
    assert len(plain["_sd"]) == 3 + 2  # given_name, family_name, address, 2 decoys
    # Each array that hides elements gets 2 decoys; the plain employment keeps its _sd.
    assert len(plain["nationalities"]) == 2 + 2
    assert all(set(e) == {"..."} for e in plain["nationalities"])
    assert len(plain["employments"]) == 2 + 2  # one plain, one digest, two decoys
    first = next(e for e in plain["employments"] if "since" in e)
    assert first["since"] == "2001-01-01" and len(first["_sd"]) == 1 + 2
    # The address disclosure is recursive: its value carries _sd digests of its own.
    located = {
        path: d
        for d, path in zip(
            issued.token.split("~")[1:-1], disclosable_paths(issued.token), strict=True
        )
    }
    address = json.loads(b64url_decode(located["/address"]))[2]
    assert address["region"] == "Anystate" and len(address["_sd"]) == 2 + 2
    assert "street_address" not in address


def test_holder_discloses_a_nested_claim_with_the_parents_it_needs(
    world: TrustWorld,
    issue_record: Callable[..., IssuedCredential],
    sd_holder: Jwk,
    verifier: CredentialVerifier,
) -> None:
    issued = issue_record(
        [
            "/address",
            "/address/street_address",
            "/address/locality",
            "/employments/*",
            "/employments/*/employer",
        ],
    )
    base = {"birthdate": "1940-01-01", "nationalities": ["US", "DE"]}
    assert presented_subject(verifier, world, issued.token, sd_holder, ["/address/locality"]) == {
        **base,
        "address": {"locality": "Anytown", "region": "Anystate", "country": "US"},
        "employments": [],
    }
    # A parent chosen discloses everything under it; "*" every element.
    assert presented_subject(verifier, world, issued.token, sd_holder, ["address"]) == {
        **base,
        "address": RECORD_SUBJECT["address"],
        "employments": [],
    }
    assert presented_subject(
        verifier, world, issued.token, sd_holder, ["/employments/1/employer", "/given_name"]
    ) == {
        **base,
        "given_name": "John",
        "employments": [{"employer": "Globex", "since": "2010-05-01"}],
    }
    assert (
        presented_subject(verifier, world, issued.token, sd_holder, ["/employments/*"])[
            "employments"
        ]
        == RECORD_SUBJECT["employments"]
    )
    with pytest.raises(PresentationError, match=r"no disclosure for \['/birthdate'\]"):
        present_sd_jwt(
            issued.token,
            disclose=["/birthdate"],
            holder_key=sd_holder,
            nonce="n",
            audience=AUDIENCE,
            issued_at=1,
        )


def test_issuer_keeps_to_the_paths_the_type_allows(
    world: TrustWorld, issue_record: Callable[..., IssuedCredential]
) -> None:
    with pytest.raises(
        IssuanceError, match=r"not disclosable claims of TestResidentRecord: \['/birthdate'\]"
    ):
        issue_record(["/birthdate"])
    with pytest.raises(IssuanceError, match=r"\['/address/street_address/x'\]"):
        issue_record(["/address/street_address/x"])
    with pytest.raises(IssuanceError, match="is not a JSON Pointer"):
        issue_record(["/address/~2"])
    with pytest.raises(IssuanceError, match="is empty"):
        issue_record([""])
    with pytest.raises(IssuanceError, match="is not a string"):
        issue_record([{"a": 1}])
    with pytest.raises(IssuanceError, match="deeper than 16 levels"):
        issue_record(["/address" * 17])
    # The built-in flat types: every top-level claim, as before.
    skill = world.types.get("VocationalSkillCertificate")
    assert ("level",) in skill.disclosable_paths


def test_decoys_are_per_request_and_zero_means_none(
    issue_record: Callable[..., IssuedCredential],
) -> None:
    issued = issue_record(["/nationalities/*"], decoys=0)
    _, payload, _ = forge.split(issued.issuer_signed_jwt)
    assert len(payload["credentialSubject"]["nationalities"]) == 2
    assert len(payload["credentialSubject"]["_sd"]) == 2  # the two personal identifiers


@pytest.mark.parametrize(
    ("schema_patch", "words"),
    [
        ({"x-hrss-disclosable": "/address"}, "must be a list of JSON Pointers"),
        ({"x-hrss-disclosable": ["/nowhere"]}, "is not under a property"),
        ({"x-hrss-disclosable": ["address//x"]}, "not under a property"),
        ({"x-hrss-disclosable": ["/address/~x"]}, "is not a JSON Pointer"),
    ],
)
def test_type_schema_disclosable_paths_are_checked(
    schema_patch: dict[str, Any], words: str
) -> None:
    schema = json.loads((ASSETS / "resident-record.schema.json").read_text(encoding="utf-8"))
    schema.update(schema_patch)
    with pytest.raises(FormatError, match=words):
        CredentialType.from_schema(schema)


# -- RFC 9901 §7.1: what the verifier rejects ----------------------------------------------


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("undisclosed digest twice", "a digest appears twice"),
        ("disclosed digest twice in an array", "a digest appears twice"),
        ("... as an object key", "'...' is only allowed as the single key of an array element"),
        ("... with another key in an array", "has no other key"),
        ("_sd_alg below the top", "_sd_alg is only allowed at the top level"),
        ("_sd not an array", "_sd must be an array"),
        ("_sd entry not a string", "digests must be strings"),
        ("disclosure named _sd", "may not name the reserved claim '_sd'"),
        ("disclosure named ...", "may not name the reserved claim '...'"),
        ("disclosure overwrites a claim", "disclosure of 'birthdate' would overwrite a claim"),
        ("array disclosure in _sd", "not [salt, name, value]"),
        ("object disclosure in an array", "not [salt, value]"),
        ("child of an undisclosed parent", "1 disclosure(s) match no digest"),
        ("_sd_alg sha-512", "_sd_alg 'sha-512' is not sha-256"),
    ],
)
def test_verifier_rejects_what_rfc9901_section_7_1_rejects(
    world: TrustWorld,
    assessor: DemoIssuer,
    record_type: CredentialType,
    sd_holder: Jwk,
    verifier: CredentialVerifier,
    case: str,
    words: str,
) -> None:
    name = disclosure("salt-1", "given_name", "John")
    element = disclosure("salt-2", "DE")
    decoy = sha256_b64("decoy")
    top: dict[str, Any] = {}
    subject: dict[str, Any] = {"_sd": [sha256_b64(name)], "family_name": "Doe"}
    disclosures = [name]
    if case == "undisclosed digest twice":
        subject["_sd"] += [decoy, decoy]
    elif case == "disclosed digest twice in an array":
        subject["nationalities"] = [{"...": sha256_b64(element)}, {"...": sha256_b64(element)}]
        disclosures.append(element)
    elif case == "... as an object key":
        subject["address"] = {"...": decoy}
    elif case == "... with another key in an array":
        subject["employments"] = [{"...": sha256_b64(element), "since": "2001-01-01"}]
        disclosures.append(element)
    elif case == "_sd_alg below the top":
        subject["_sd_alg"] = "sha-256"
    elif case == "_sd not an array":
        subject["address"] = {"_sd": decoy}
    elif case == "_sd entry not a string":
        subject["_sd"].append(7)
    elif case in ("disclosure named _sd", "disclosure named ..."):
        reserved = disclosure("salt-3", case.split()[-1], [decoy])
        subject["_sd"].append(sha256_b64(reserved))
        disclosures.append(reserved)
    elif case == "disclosure overwrites a claim":
        again = disclosure("salt-4", "birthdate", "1950-01-01")
        subject["birthdate"] = "1940-01-01"
        subject["_sd"].append(sha256_b64(again))
        disclosures.append(again)
    elif case == "array disclosure in _sd":
        subject["_sd"].append(sha256_b64(element))
        disclosures.append(element)
    elif case == "object disclosure in an array":
        country = disclosure("salt-5", "country", "DE")
        subject["nationalities"] = [{"...": sha256_b64(country)}]
        disclosures.append(country)
    elif case == "child of an undisclosed parent":
        street = disclosure("salt-6", "street_address", "Schulstr. 12")
        parent = disclosure("salt-7", "address", {"_sd": [sha256_b64(street)]})
        subject["_sd"].append(sha256_b64(parent))
        disclosures.append(street)  # the parent is withheld
    elif case == "_sd_alg sha-512":
        top["_sd_alg"] = "sha-512"
    credential_id = sha256_b64(case).encode()[:32]
    jwt = forged(world, assessor, record_type, sd_holder, subject, credential_id, **top)
    rejected(verifier, world, "~".join([jwt, *disclosures]) + "~", words)


def test_a_well_formed_forged_payload_passes(
    world: TrustWorld,
    assessor: DemoIssuer,
    record_type: CredentialType,
    sd_holder: Jwk,
    verifier: CredentialVerifier,
) -> None:
    """The control for the reject cases above: the same construction, nothing wrong."""
    name = disclosure("salt-1", "given_name", "John")
    street = disclosure("salt-6", "street_address", "Schulstr. 12")
    parent = disclosure("salt-7", "address", {"_sd": [sha256_b64(street)], "country": "DE"})
    subject = {
        "_sd": [sha256_b64(name), sha256_b64(parent), sha256_b64("decoy")],
        "family_name": "Doe",
        "nationalities": [{"...": sha256_b64("decoy-2")}, "FR"],
    }
    jwt = forged(world, assessor, record_type, sd_holder, subject, b"\x52" * 32)
    token = "~".join([jwt, name, street, parent]) + "~"
    assert subject_of(verifier, world, token) == {
        "given_name": "John",
        "family_name": "Doe",
        "address": {"street_address": "Schulstr. 12", "country": "DE"},
        "nationalities": ["FR"],
    }


# -- RFC 9901 §8: the JSON serialization ----------------------------------------------------


def json_serialization(compact: str, *, general: bool) -> str:
    parts = compact.split("~")
    protected, payload, signature = parts[0].split(".")
    header: dict[str, Any] = {"disclosures": parts[1:-1]}
    if parts[-1]:
        header["kb_jwt"] = parts[-1]
    signed = {"protected": protected, "header": header, "signature": signature}
    if general:
        return json.dumps({"payload": payload, "signatures": [signed]})
    return json.dumps({"payload": payload, **signed})


@pytest.mark.parametrize("general", [False, True], ids=["flattened", "general"])
def test_json_serialization_verifies_as_credential_and_presentation(
    world: TrustWorld,
    issue_record: Callable[..., IssuedCredential],
    sd_holder: Jwk,
    verifier: CredentialVerifier,
    general: bool,
) -> None:
    issued = issue_record(["/address", "/nationalities/*"])
    assert (
        subject_of(verifier, world, json_serialization(issued.token, general=general))
        == RECORD_SUBJECT
    )
    presentation = present_sd_jwt(
        issued.token,
        disclose=["/nationalities/0"],
        holder_key=sd_holder,
        nonce="n",
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    report = verifier.verify_presentation(
        json_serialization(presentation, general=general),
        nonce="n",
        audience=AUDIENCE,
        as_of=world.now(),
    )
    assert report.passed
    assert report.credentials[0].credential.subject["nationalities"] == ["US"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("{not json", "is not valid JSON"),
        ('{"payload": 1}', "needs a string 'payload'"),
        ('{"payload": "e30", "signatures": []}', "exactly one signature"),
        ('{"payload": "e30", "protected": "e30"}', "needs string 'protected' and 'signature'"),
        (
            '{"payload": "e30", "protected": "e30", "signature": "AA", '
            '"header": {"disclosures": "x"}}',
            "'disclosures' must be an array of strings",
        ),
    ],
)
def test_malformed_json_serialization_is_rejected(
    verifier: CredentialVerifier, document: str, words: str
) -> None:
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(document)
    assert err.value.check == "format" and words in err.value.message, err.value.message
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_presentation(document, nonce="n", audience=AUDIENCE)
    assert err.value.check == "format" and words in err.value.message, err.value.message
