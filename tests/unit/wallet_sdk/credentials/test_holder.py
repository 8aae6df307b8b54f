"""Presentations: SD-JWT with key binding, vp+jwt with enveloped credentials."""

from __future__ import annotations

import json
import time

import pytest

from tests.unit.wallet_sdk.credentials import forge
from tests.unit.wallet_sdk.credentials.world import (
    DIPLOMA_SUBJECT,
    SKILL_SUBJECT,
    DemoIssuer,
    TrustWorld,
)
from wallet_sdk.credentials import (
    CredentialVerificationError,
    CredentialVerifier,
    PresentationError,
    disclosed_claim_names,
    present_sd_jwt,
    present_vc_jwt,
)
from wallet_sdk.jose import Curve, Jwk, b64url_decode

AUDIENCE = "https://rsj.sh.example/verify"


@pytest.fixture
def holder() -> Jwk:
    return Jwk.generate(Curve.ED25519)


def presentation_rejected(
    verifier: CredentialVerifier, token: str, check: str, words: str, **kw: object
) -> None:
    verifier.trust.refresh()  # type: ignore[attr-defined]
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_presentation(token, **kw)  # type: ignore[arg-type]
    assert err.value.check == check, err.value
    assert words in err.value.message, err.value.message


def test_sd_jwt_presentation_discloses_level_not_id_number(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    issued = world.issue(
        assessor,
        "VocationalSkillCertificate",
        SKILL_SUBJECT,
        sd=True,
        holder_key=holder,
        disclosable=["level", "occupationCode", "certificateNumber"],
    )
    assert set(disclosed_claim_names(issued.token)) == {
        "name",
        "idNumber",
        "level",
        "occupationCode",
        "certificateNumber",
    }
    presentation = present_sd_jwt(
        issued.token,
        disclose=["level", "occupationCode"],
        holder_key=holder,
        nonce="n-123",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    assert SKILL_SUBJECT["idNumber"] not in presentation
    for part in presentation.split("~")[:-1]:
        assert SKILL_SUBJECT["idNumber"].encode() not in b64url_decode(
            part.split(".")[1] if "." in part else part
        )
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_presentation(
        presentation, nonce="n-123", audience=AUDIENCE, as_of=world.now()
    )
    assert report.passed
    subject = report.credentials[0].credential.subject  # type: ignore[union-attr]
    assert subject["level"] == 3 and subject["occupationCode"] == "4-01-02-01"
    assert "idNumber" not in subject and "name" not in subject
    assert report.credentials[0].check("holder_binding").passed


@pytest.mark.parametrize(
    ("nonce", "audience", "words"),
    [("other-nonce", AUDIENCE, "nonce"), ("n-1", "https://elsewhere.example", "audience")],
)
def test_wrong_nonce_or_audience_fails_holder_binding(
    world: TrustWorld,
    assessor: DemoIssuer,
    verifier: CredentialVerifier,
    holder: Jwk,
    nonce: str,
    audience: str,
    words: str,
) -> None:
    issued = world.issue(
        assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True, holder_key=holder
    )
    presentation = present_sd_jwt(
        issued.token,
        disclose=["name"],
        holder_key=holder,
        nonce=nonce,
        audience=audience,
        issued_at=int(time.time()),
    )
    presentation_rejected(
        verifier,
        presentation,
        "holder_binding",
        words,
        nonce="n-1",
        audience=AUDIENCE,
        as_of=world.now(),
    )


def test_disclosure_added_after_key_binding_fails_holder_binding(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    issued = world.issue(
        assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True, holder_key=holder
    )
    jwt, *disclosures, _ = issued.token.split("~")
    presentation = present_sd_jwt(
        issued.token,
        disclose=[],
        holder_key=holder,
        nonce="n-1",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    kb = presentation.rsplit("~", 1)[1]
    stuffed = "~".join([jwt, disclosures[0]]) + "~" + kb
    presentation_rejected(
        verifier,
        stuffed,
        "holder_binding",
        "sd_hash",
        nonce="n-1",
        audience=AUDIENCE,
        as_of=world.now(),
    )


def test_key_binding_by_another_key_and_stale_presentation(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    issued = world.issue(
        assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True, holder_key=holder
    )
    thief = Jwk.generate(Curve.ED25519)
    stolen = present_sd_jwt(
        issued.token,
        disclose=["level"] if False else [],
        holder_key=thief,
        nonce="n-1",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    presentation_rejected(
        verifier,
        stolen,
        "holder_binding",
        "does not verify",
        nonce="n-1",
        audience=AUDIENCE,
        as_of=world.now(),
    )
    stale = present_sd_jwt(
        issued.token,
        disclose=[],
        holder_key=holder,
        nonce="n-1",
        audience=AUDIENCE,
        issued_at=int(time.time()) - 3600,
    )
    presentation_rejected(
        verifier,
        stale,
        "holder_binding",
        "too old",
        nonce="n-1",
        audience=AUDIENCE,
        as_of=world.now(),
    )


def test_presentation_without_key_binding_is_rejected(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    issued = world.issue(
        assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True, holder_key=holder
    )
    presentation_rejected(
        verifier,
        issued.token,
        "holder_binding",
        "",
        nonce="n",
        audience=AUDIENCE,
        as_of=world.now(),
    )


def test_vp_jwt_of_enveloped_credentials(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    diploma = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    vp = present_vc_jwt(
        [diploma.token],
        holder_key=holder,
        nonce="n-9",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    _, payload, _ = forge.split(vp)
    entry = payload["verifiableCredential"][0]
    assert entry["type"] == "EnvelopedVerifiableCredential"
    assert entry["id"].startswith("data:application/vc+jwt,eyJ")
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_presentation(vp, nonce="n-9", audience=AUDIENCE, as_of=world.now())
    assert report.passed and report.format == "vp+jwt"
    assert json.dumps(report.to_dict())
    presentation_rejected(
        verifier, vp, "holder_binding", "nonce", nonce="n-10", audience=AUDIENCE, as_of=world.now()
    )
    presentation_rejected(
        verifier,
        vp,
        "holder_binding",
        "audience",
        nonce="n-9",
        audience="https://x.example",
        as_of=world.now(),
    )
    other = present_vc_jwt(
        [diploma.token],
        holder_key=Jwk.generate(Curve.ED25519),
        nonce="n-9",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    presentation_rejected(
        verifier,
        other,
        "holder_binding",
        "does not verify",
        nonce="n-9",
        audience=AUDIENCE,
        as_of=world.now(),
    )


def test_vp_jwt_envelope_must_be_well_formed(verifier: CredentialVerifier, holder: Jwk) -> None:
    bogus = forge.sign(
        {"alg": "EdDSA", "typ": "vp+jwt"},
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [{"id": "https://x"}],
        },
        holder,
    )
    presentation_rejected(
        verifier, bogus, "format", "EnvelopedVerifiableCredential", nonce="n", audience=AUDIENCE
    )


def test_holder_refuses_unknown_disclosures(
    world: TrustWorld, assessor: DemoIssuer, holder: Jwk
) -> None:
    issued = world.issue(
        assessor,
        "VocationalSkillCertificate",
        SKILL_SUBJECT,
        sd=True,
        holder_key=holder,
        register_status=False,
    )
    with pytest.raises(PresentationError, match="no disclosure"):
        present_sd_jwt(
            issued.token,
            disclose=["level"],
            holder_key=holder,
            nonce="n",
            audience=AUDIENCE,
            issued_at=1,
        )
    with pytest.raises(PresentationError, match="nonce"):
        present_sd_jwt(
            issued.token, disclose=[], holder_key=holder, nonce="", audience=AUDIENCE, issued_at=1
        )
