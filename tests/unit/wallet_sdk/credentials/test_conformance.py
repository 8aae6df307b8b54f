"""Standards conformance of the envelope and format layer (issue #14, items 1 and 2):
VC-JOSE-COSE (no ``vc``/``vp`` claims, ``cty``, true media types of enveloped credentials,
``vp+sd-jwt``) and VC Data Model 2.0 (``type`` as a single string, ``@context`` rules), with
the specifications' own examples from ``tests/assets/credentials/w3c_examples.json``."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from tests.unit.wallet_sdk.credentials import forge
from tests.unit.wallet_sdk.credentials.world import (
    DIPLOMA_SUBJECT,
    SKILL_SUBJECT,
    DemoIssuer,
    TrustWorld,
)
from tests.unit.wallet_sdk.credentials.world import W3C_EXAMPLES as EXAMPLES
from wallet_sdk.credentials import (
    CredentialVerificationError,
    CredentialVerifier,
    IssuanceError,
    present_vc_jwt,
)
from wallet_sdk.jose import Curve, Jwk

V2 = "https://www.w3.org/ns/credentials/v2"
AUDIENCE = "https://rsj.gd.example/verify"


@pytest.fixture
def holder() -> Jwk:
    return Jwk.generate(Curve.ED25519)


def credential_rejected(verifier: CredentialVerifier, token: str, check: str, words: str) -> None:
    verifier.trust.refresh()  # type: ignore[attr-defined]
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(token)
    assert err.value.check == check, err.value
    assert words in err.value.message, err.value.message


def presentation_rejected(
    verifier: CredentialVerifier, token: str, check: str, words: str, nonce: str = "n-1"
) -> None:
    verifier.trust.refresh()  # type: ignore[attr-defined]
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_presentation(token, nonce=nonce, audience=AUDIENCE)
    assert err.value.check == check, err.value
    assert words in err.value.message, err.value.message


def resigned(token: str, key: Jwk, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """`token` signed again by `key` with header members and claims added."""
    old_header, payload, _ = forge.split(token)
    return forge.sign({**old_header, **(header or {})}, {**payload, **claims}, key)


def vp_payload(token: str, **extra: Any) -> dict[str, Any]:
    """The VC-JOSE-COSE presentation example enveloping `token`, bound to nonce and audience."""
    payload: dict[str, Any] = copy.deepcopy(EXAMPLES["vc_jose_cose_presentation"])
    entry = payload["verifiableCredential"][0]
    media_type = "vc+sd-jwt" if "~" in token else "vc+jwt"
    entry["id"] = f"data:application/{media_type},{token}"
    now = int(time.time())
    payload.update(nonce="n-1", aud=AUDIENCE, iat=now, exp=now + 300, **extra)
    return payload


# -- VC-JOSE-COSE §3.1: no vc or vp claim ----------------------------------------------------


@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_issuer_refuses_a_vc_or_vp_claim(world: TrustWorld, school: DemoIssuer, claim: str) -> None:
    with pytest.raises(IssuanceError) as err:
        world.issue(
            school,
            "TechnicalSchoolDiploma",
            DIPLOMA_SUBJECT,
            extra_claims={claim: EXAMPLES["vcdm2_example_2_credential"]},
            register_status=False,
        )
    assert f"claim {claim!r} is not allowed" in str(err.value)


@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_verifier_refuses_a_vc_jwt_carrying_a_vc_or_vp_claim(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, claim: str
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    forged = resigned(issued.token, school.key, **{claim: EXAMPLES["vcdm2_example_2_credential"]})
    credential_rejected(verifier, forged, "format", f"claim {claim!r} is not allowed")


def test_verifier_refuses_an_sd_jwt_carrying_a_vc_claim(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True)
    jwt, rest = issued.token.split("~", 1)
    forged = resigned(jwt, assessor.key, vc=EXAMPLES["vcdm2_example_2_credential"]) + "~" + rest
    credential_rejected(verifier, forged, "format", "claim 'vc' is not allowed")


@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_verifier_refuses_a_vp_jwt_carrying_a_vc_or_vp_claim(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, holder: Jwk, claim: str
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    payload = vp_payload(issued.token, **{claim: {"type": "VerifiablePresentation"}})
    forged = forge.sign({"alg": "EdDSA", "typ": "vp+jwt"}, payload, holder)
    presentation_rejected(verifier, forged, "format", f"claim {claim!r} is not allowed")


# -- VC-JOSE-COSE §3.1.1/§3.1.2: cty, when present, is vc or vp ------------------------------


def test_cty_vc_is_accepted_and_any_other_refused(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, register_status=False)
    with_cty = resigned(issued.token, school.key, header={"cty": "vc"})
    # The chain binds the id to the token the issuer registers: here, the one with `cty`.
    world.register_token(school, issued.credential_id, with_cty)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    assert verifier.verify_credential(with_cty).passed
    for wrong in ("vp", "JWT", "application/vc"):
        forged = resigned(issued.token, school.key, header={"cty": wrong})
        credential_rejected(verifier, forged, "format", f"cty {wrong!r} is not 'vc'")


def test_cty_vp_is_accepted_on_a_presentation_and_vc_refused(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    payload = vp_payload(issued.token)
    good = forge.sign({"alg": "EdDSA", "typ": "vp+jwt", "cty": "vp"}, payload, holder)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    assert verifier.verify_presentation(good, nonce="n-1", audience=AUDIENCE).passed
    bad = forge.sign({"alg": "EdDSA", "typ": "vp+jwt", "cty": "vc"}, payload, holder)
    presentation_rejected(verifier, bad, "format", "cty 'vc' is not 'vp'")


# -- enveloped credentials carry their true media type, @context as an array -----------------


def test_an_sd_jwt_in_a_vp_jwt_is_enveloped_as_vc_sd_jwt_and_verifies(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    sd = world.issue(
        assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True, holder_key=holder
    )
    plain = world.issue(assessor, "VocationalSkillCertificate", SKILL_SUBJECT, holder_key=holder)
    vp = present_vc_jwt(
        [sd.token, plain.token],
        holder_key=holder,
        nonce="n-1",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    _, payload, _ = forge.split(vp)
    first, second = payload["verifiableCredential"]
    assert first["id"] == "data:application/vc+sd-jwt," + sd.token
    assert second["id"] == "data:application/vc+jwt," + plain.token
    assert first["@context"] == [V2] and second["@context"] == [V2]
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_presentation(vp, nonce="n-1", audience=AUDIENCE)
    assert report.passed
    assert [r.format for r in report.credentials] == ["vc+sd-jwt", "vc+jwt"]


def test_an_sd_jwt_labelled_vc_jwt_is_refused(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    sd = world.issue(
        assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True, holder_key=holder
    )
    payload = vp_payload(sd.token)
    payload["verifiableCredential"][0]["id"] = "data:application/vc+jwt," + sd.token
    vp = forge.sign({"alg": "EdDSA", "typ": "vp+jwt"}, payload, holder)
    presentation_rejected(verifier, vp, "format", "expected a vc+jwt, got a vc+sd-jwt")


# -- vp+sd-jwt presentations -------------------------------------------------------------------


def test_vp_sd_jwt_presentation_verifies_and_is_bound(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    vp = present_vc_jwt(
        [issued.token],
        holder_key=holder,
        nonce="n-1",
        audience=AUDIENCE,
        issued_at=int(time.time()),
        typ="vp+sd-jwt",
    )
    assert vp.endswith("~") and vp.count("~") == 1
    header, payload, _ = forge.split(vp[:-1])
    assert header["typ"] == "vp+sd-jwt" and payload["_sd_alg"] == "sha-256"
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_presentation(vp, nonce="n-1", audience=AUDIENCE)
    assert report.passed and report.format == "vp+sd-jwt"
    presentation_rejected(verifier, vp, "holder_binding", "nonce", nonce="n-2")
    other = Jwk.generate(Curve.ED25519)
    stolen = forge.sign({"alg": "EdDSA", "typ": "vp+sd-jwt"}, payload, other) + "~"
    presentation_rejected(verifier, stolen, "holder_binding", "does not verify")
    with_kb = vp + "eyJhbGciOiJub25lIn0.e30."
    presentation_rejected(verifier, with_kb, "format", "vp+sd-jwt")


# -- VC Data Model 2.0: type as one string, @context ------------------------------------------


def test_the_specification_presentation_with_a_string_type_verifies(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, holder: Jwk
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    payload = vp_payload(issued.token)
    assert payload["type"] == "VerifiablePresentation"
    vp = forge.sign({"alg": "EdDSA", "typ": "vp+jwt"}, payload, holder)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    assert verifier.verify_presentation(vp, nonce="n-1", audience=AUDIENCE).passed
    payload["type"] = "VerifiableCredential"
    vp = forge.sign({"alg": "EdDSA", "typ": "vp+jwt"}, payload, holder)
    presentation_rejected(verifier, vp, "format", "type must include VerifiablePresentation")


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ([], "@context must be an array starting with"),
        (["https://www.w3.org/2018/credentials/v1"], "@context must be an array starting with"),
        ("https://www.w3.org/2018/credentials/v1", "@context must be an array starting with"),
        (None, "@context must be an array starting with"),
    ],
)
def test_an_envelope_with_an_empty_or_wrong_context_is_refused(
    world: TrustWorld,
    school: DemoIssuer,
    verifier: CredentialVerifier,
    holder: Jwk,
    context: Any,
    words: str,
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    payload = vp_payload(issued.token)
    payload["verifiableCredential"][0]["@context"] = context
    vp = forge.sign({"alg": "EdDSA", "typ": "vp+jwt"}, payload, holder)
    presentation_rejected(verifier, vp, "format", words)


@pytest.mark.parametrize("context", [[], ["https://www.w3.org/2018/credentials/v1"]])
def test_a_presentation_with_an_empty_or_wrong_context_is_refused(
    world: TrustWorld,
    school: DemoIssuer,
    verifier: CredentialVerifier,
    holder: Jwk,
    context: list[str],
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    vp = forge.sign(
        {"alg": "EdDSA", "typ": "vp+jwt"}, vp_payload(issued.token, **{"@context": context}), holder
    )
    presentation_rejected(verifier, vp, "format", "@context must be an array starting with")


@pytest.mark.parametrize("context", [[], ["https://www.w3.org/2018/credentials/v1"], V2])
def test_a_credential_with_an_empty_or_wrong_context_is_refused(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, context: Any
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    forged = resigned(issued.token, school.key, **{"@context": context})
    credential_rejected(verifier, forged, "format", "@context must be an array starting with")
