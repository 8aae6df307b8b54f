"""Interoperability: vc+jwt with jwcrypto (both directions), SD-JWT VCs with the `sd-jwt`
reference implementation (both directions), RFC 8037 and RFC 7520 examples through the JWS
layer the verifier uses."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from tests.unit.wallet_sdk.credentials.world import (
    DIPLOMA_SUBJECT,
    RECORD_PATHS,
    RECORD_SUBJECT,
    SKILL_SUBJECT,
    DemoIssuer,
    TrustWorld,
)
from wallet_sdk import VerificationError
from wallet_sdk.credentials import (
    CredentialType,
    CredentialVerifier,
    IssuedCredential,
    build_credential,
    credential_digest,
    present_sd_jwt,
)
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm, verify_compact

ASSETS = Path(__file__).parents[3] / "assets"
AUDIENCE = "https://verifier.example"


def to_jwcrypto(key: Jwk, *, private: bool = False) -> jc_jwk.JWK:
    return jc_jwk.JWK(**(key.private_jwk() if private else key.public_jwk()))


@pytest.mark.parametrize("issuer_name", ["school", "assessor"])
def test_our_vc_jwt_verifies_with_jwcrypto(
    world: TrustWorld, request: pytest.FixtureRequest, issuer_name: str
) -> None:
    issuer: DemoIssuer = request.getfixturevalue(issuer_name)
    term, subject = (
        ("TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
        if issuer_name == "school"
        else ("VocationalSkillCertificate", SKILL_SUBJECT)
    )
    issued = world.issue(issuer, term, subject, register_status=False)
    token = jc_jws.JWS()
    token.deserialize(issued.token)
    token.verify(to_jwcrypto(issuer.key), alg=issuer.key.algorithm.value)
    claims = json.loads(token.payload)
    assert token.jose_header["typ"] == "vc+jwt"
    assert claims["credentialSubject"] == subject and claims["iss"] == claims["issuer"]


def test_jwcrypto_signed_vc_jwt_verifies_with_our_pipeline(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier
) -> None:
    credential_id = b"\x07" * 31 + bytes([int(time.time()) % 256])
    claims = build_credential(
        credential_type=world.types.get("VocationalSkillCertificate"),
        subject=SKILL_SUBJECT,
        issuer_id=assessor.entity_id,
        credential_id=credential_id,
        status_registry=world.status_registry,
        issued_at=world.now(),
    )
    token = jc_jws.JWS(json.dumps(claims, ensure_ascii=False).encode())
    token.add_signature(
        to_jwcrypto(assessor.key, private=True),
        alg="ES256",
        protected=json.dumps(
            {"alg": "ES256", "kid": assessor.key.thumbprint_b64(), "typ": "vc+jwt"}
        ),
    )
    compact = token.serialize(compact=True)
    world.clients.status_registry.register(
        assessor.controller,
        issuer=assessor.entity_id,
        credential_ids=[credential_id],
        digests=[credential_digest(compact)],
    )
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_credential(compact, as_of=world.now())
    assert report.passed and report.credential is not None
    assert report.credential.subject["level"] == 3


def test_our_sd_jwt_vc_verifies_with_the_reference_implementation(
    world: TrustWorld, assessor: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.P256)  # the reference KB-JWT check defaults to ES256
    issued = world.issue(
        assessor,
        "VocationalSkillCertificate",
        SKILL_SUBJECT,
        sd=True,
        holder_key=holder,
        disclosable=["level"],
        register_status=False,
    )
    presentation = present_sd_jwt(
        issued.token,
        disclose=["level"],
        holder_key=holder,
        nonce="n-42",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    issuer_key = to_jwcrypto(assessor.key)
    reference = SDJWTVerifier(
        presentation, lambda iss, header: issuer_key, expected_aud=AUDIENCE, expected_nonce="n-42"
    )
    payload = reference.get_verified_payload()
    assert payload["credentialSubject"]["level"] == 3
    assert "idNumber" not in payload["credentialSubject"]
    # Every disclosure of the issuance, too.
    full = SDJWTVerifier(issued.token, lambda iss, header: issuer_key).get_verified_payload()
    assert full["credentialSubject"] == SKILL_SUBJECT


def test_reference_sd_jwt_vc_verifies_with_our_pipeline(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier
) -> None:
    holder = Jwk.generate(Curve.P256)
    credential_id = bytes(range(31)) + bytes([int(time.time() * 7) % 256])
    claims: dict[str, Any] = build_credential(
        credential_type=world.types.get("VocationalSkillCertificate"),
        subject=SKILL_SUBJECT,
        issuer_id=assessor.entity_id,
        credential_id=credential_id,
        status_registry=world.status_registry,
        issued_at=world.now(),
        holder_key=holder,
    )
    claims["credentialSubject"] = {
        (SDObj(name) if name in ("name", "idNumber", "level") else name): value
        for name, value in claims["credentialSubject"].items()
    }
    cnf = claims.pop("cnf")
    issuance = SDJWTIssuer(
        claims,
        to_jwcrypto(assessor.key, private=True),
        holder_key=to_jwcrypto(holder),
        sign_alg="ES256",
        extra_header_parameters={"typ": "vc+sd-jwt", "kid": assessor.key.thumbprint_b64()},
    ).sd_jwt_issuance
    assert json.loads(json.dumps(cnf))["jwk"]["x"] == holder.public_jwk()["x"]
    assert issuance.endswith("~")
    world.clients.status_registry.register(
        assessor.controller,
        issuer=assessor.entity_id,
        credential_ids=[credential_id],
        digests=[credential_digest(issuance.split("~")[0])],
    )
    verifier.trust.refresh()  # type: ignore[attr-defined]
    assert verifier.verify_credential(issuance, as_of=world.now()).passed

    reference_holder = SDJWTHolder(issuance)
    reference_holder.create_presentation(
        {"credentialSubject": {"level": True}},
        nonce="n-7",
        aud=AUDIENCE,
        holder_key=to_jwcrypto(holder, private=True),
        sign_alg="ES256",
    )
    report = verifier.verify_presentation(
        reference_holder.sd_jwt_presentation, nonce="n-7", audience=AUDIENCE, as_of=world.now()
    )
    assert report.passed
    subject = report.credentials[0].credential.subject  # type: ignore[union-attr]
    assert subject["level"] == 3 and "idNumber" not in subject


def test_rfc8037_ed25519_example_through_the_jws_layer() -> None:
    vector = json.loads((ASSETS / "wallet_sdk" / "rfc8037_ed25519.json").read_text())
    key = Jwk.from_jwk(vector["public_jwk"])
    verified = verify_compact(vector["jws"], key, algorithms=[JwsAlgorithm.EDDSA])
    assert verified.payload == vector["payload"].encode()
    assert key.thumbprint_b64() == vector["thumbprint_b64url"]


def test_rfc7520_examples_through_the_jws_layer() -> None:
    vectors = json.loads((ASSETS / "credentials" / "rfc7520_jws_examples.json").read_text())
    ecdsa = vectors["ecdsa_4_3"]
    key = Jwk.from_jwk({k: v for k, v in ecdsa["key"].items() if k != "d"})
    verified = verify_compact(ecdsa["compact"], key, algorithms=[JwsAlgorithm.ES512])
    assert verified.payload.decode() == vectors["payload"]
    # The same token is refused when ES512 is not allowed (the verifier's default policy).
    with pytest.raises(VerificationError) as err:
        verify_compact(ecdsa["compact"], key, algorithms=[JwsAlgorithm.EDDSA, JwsAlgorithm.ES256])
    assert err.value.check == "algorithm"
    # 4.4 (HS256) is refused whatever key is offered: no HMAC, no algorithm confusion.
    with pytest.raises(VerificationError) as err:
        verify_compact(vectors["hmac_4_4"]["compact"], key, algorithms=[JwsAlgorithm.ES512])
    assert err.value.check == "algorithm"


# -- RFC 9901 at any depth, both ways -------------------------------------------------------


def test_our_nested_array_recursive_sd_jwt_verifies_with_the_reference_implementation(
    world: TrustWorld,
    issue_record: Callable[..., IssuedCredential],
    sd_holder: Jwk,
    assessor: DemoIssuer,
) -> None:
    issued = issue_record(RECORD_PATHS)
    issuer_key = to_jwcrypto(assessor.key)
    full = SDJWTVerifier(issued.token, lambda iss, header: issuer_key).get_verified_payload()
    assert full["credentialSubject"] == RECORD_SUBJECT
    presentation = present_sd_jwt(
        issued.token,
        disclose=["/address/locality", "/nationalities/1", "/employments/1/employer"],
        holder_key=sd_holder,
        nonce="n-9",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    reference = SDJWTVerifier(
        presentation, lambda iss, header: issuer_key, expected_aud=AUDIENCE, expected_nonce="n-9"
    )
    assert reference.get_verified_payload()["credentialSubject"] == {
        "birthdate": "1940-01-01",
        "address": {"locality": "Anytown", "region": "Anystate", "country": "US"},
        "nationalities": ["DE"],
        "employments": [{"since": "2001-01-01"}, {"employer": "Globex", "since": "2010-05-01"}],
    }


def test_reference_nested_array_recursive_sd_jwt_verifies_with_our_pipeline(
    world: TrustWorld,
    assessor: DemoIssuer,
    record_type: CredentialType,
    sd_holder: Jwk,
    verifier: CredentialVerifier,
) -> None:
    credential_id = bytes(range(1, 32)) + bytes([int(time.time() * 11) % 256])
    claims: dict[str, Any] = build_credential(
        credential_type=record_type,
        subject=RECORD_SUBJECT,
        issuer_id=assessor.entity_id,
        credential_id=credential_id,
        status_registry=world.status_registry,
        issued_at=world.now(),
        holder_key=sd_holder,
    )
    address = RECORD_SUBJECT["address"]
    claims["credentialSubject"] = {
        SDObj("given_name"): "John",
        SDObj("family_name"): "Doe",
        "birthdate": "1940-01-01",
        # Recursive: the address is a disclosure whose value hides two members again.
        SDObj("address"): {
            SDObj("street_address"): address["street_address"],
            SDObj("locality"): address["locality"],
            "region": address["region"],
            "country": address["country"],
        },
        "nationalities": [SDObj("US"), SDObj("DE")],
        "employments": [
            {SDObj("employer"): "Acme", "since": "2001-01-01"},
            SDObj({SDObj("employer"): "Globex", "since": "2010-05-01"}),
        ],
    }
    claims.pop("cnf")
    issuance = SDJWTIssuer(
        claims,
        to_jwcrypto(assessor.key, private=True),
        holder_key=to_jwcrypto(sd_holder),
        sign_alg="ES256",
        add_decoy_claims=True,
        extra_header_parameters={"typ": "vc+sd-jwt", "kid": assessor.key.thumbprint_b64()},
    ).sd_jwt_issuance
    world.clients.status_registry.register(
        assessor.controller,
        issuer=assessor.entity_id,
        credential_ids=[credential_id],
        digests=[credential_digest(issuance.split("~")[0])],
    )
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_credential(issuance, as_of=world.now())
    assert report.credential is not None and report.credential.subject == RECORD_SUBJECT

    reference_holder = SDJWTHolder(issuance)
    reference_holder.create_presentation(
        {
            "credentialSubject": {
                "address": {"locality": True},
                "nationalities": [False, True],
                "employments": [{"employer": False}, {"employer": True}],
            }
        },
        nonce="n-8",
        aud=AUDIENCE,
        holder_key=to_jwcrypto(sd_holder, private=True),
        sign_alg="ES256",
    )
    theirs = verifier.verify_presentation(
        reference_holder.sd_jwt_presentation, nonce="n-8", audience=AUDIENCE, as_of=world.now()
    )
    expected = {
        "birthdate": "1940-01-01",
        "address": {"locality": "Anytown", "region": "Anystate", "country": "US"},
        "nationalities": ["DE"],
        "employments": [{"since": "2001-01-01"}, {"employer": "Globex", "since": "2010-05-01"}],
    }
    assert theirs.passed
    assert theirs.credentials[0].credential.subject == expected  # type: ignore[union-attr]
    # Our sd_holder selects from their issuance the same way.
    ours = present_sd_jwt(
        issuance,
        disclose=["/address/locality", "/nationalities/1", "/employments/1/employer"],
        holder_key=sd_holder,
        nonce="n-8",
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    report_ours = verifier.verify_presentation(
        ours, nonce="n-8", audience=AUDIENCE, as_of=world.now()
    )
    assert report_ours.credentials[0].credential.subject == expected  # type: ignore[union-attr]
