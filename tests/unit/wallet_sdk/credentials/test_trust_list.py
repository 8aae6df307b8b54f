"""Verifying outside the trust tree (issue #14, item 7): a static trust list of issuers and
JWKs, or did:jwk / did:key issuers, runs the same pipeline; the checks that need the chain are
reported as skipped, never as passed, and the verdict says so."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.unit.wallet_sdk.credentials import forge
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, DemoIssuer, TrustWorld
from tests.unit.wallet_sdk.credentials.world import W3C_EXAMPLES as EXAMPLES
from wallet_sdk.credentials import (
    CredentialVerificationError,
    CredentialVerifier,
    StaticTrustList,
    TrustStateError,
    VerificationPolicy,
    did_key_jwk,
    present_vc_jwt,
)
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, Jwk, b64url_encode
from wallet_sdk.receipt import CheckStatus

UNIVERSITY = "https://university.example/issuers/565049"
CHAIN_CHECKS = ("issuer_accredited", "status", "anchoring")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(data: bytes) -> str:
    number, text = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = _BASE58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def did_key(key: Jwk) -> str:
    if key.curve is Curve.ED25519:
        return "did:key:z" + base58btc(b"\xed\x01" + key.raw_public_key())
    raw = key.raw_public_key()  # 0x04 || x || y: compress it
    compressed = bytes([2 + (raw[-1] & 1)]) + raw[1:33]
    return "did:key:z" + base58btc(b"\x80\x24" + compressed)


def did_jwk(key: Jwk) -> str:
    return "did:jwk:" + b64url_encode(json.dumps(key.public().public_jwk()).encode())


def example_credential(issuer: str = UNIVERSITY, **changes: Any) -> dict[str, Any]:
    """VC Data Model 2.0 Example 2, as a JWT claims set."""
    claims: dict[str, Any] = copy.deepcopy(EXAMPLES["vcdm2_example_2_credential"])
    claims["issuer"] = issuer
    claims.update(changes)
    return claims


def sign_vc(claims: dict[str, Any], key: Jwk, kid: str | None) -> str:
    header = {"alg": key.algorithm.value, "typ": "vc+jwt"}
    if kid is not None:
        header["kid"] = kid
    return forge.sign(header, claims, key)


def assert_chain_checks_skipped(report: Any) -> None:
    for name in CHAIN_CHECKS:
        result = report.check(name)
        assert result.status is CheckStatus.SKIPPED, result
        assert result.detail == "not checked: no chain (static trust list)"
    assert set(CHAIN_CHECKS) <= set(report.skipped)
    assert report.verdict.startswith("verified; skipped: ")
    assert all(name in report.verdict for name in CHAIN_CHECKS)
    as_dict = report.to_dict()
    assert as_dict["verified"] is True and set(CHAIN_CHECKS) <= set(as_dict["skipped"])
    assert as_dict["verdict"] == report.verdict


@pytest.mark.parametrize("curve", [Curve.P256, Curve.ED25519])
def test_the_specification_example_verifies_against_a_static_trust_list(curve: Curve) -> None:
    key = Jwk.generate(curve)
    verifier = CredentialVerifier.from_trust_list(StaticTrustList.of({UNIVERSITY: [key]}))
    report = verifier.verify_credential(sign_vc(example_credential(), key, key.thumbprint_b64()))
    assert report.passed
    for name in ("format", "algorithm_allowlist", "key_valid", "signature", "validity_period"):
        assert report.check(name).status is CheckStatus.PASSED, report.check(name)
    assert_chain_checks_skipped(report)
    credential = report.credential
    assert credential is not None and credential.issuer == UNIVERSITY
    assert credential.credential_type == "ExampleDegreeCredential"
    assert credential.subject["degree"]["name"] == "Bachelor of Science and Arts"
    assert report.to_dict()["credential"]["issuer"] == UNIVERSITY


def test_a_credential_whose_type_is_one_string_verifies() -> None:
    key = Jwk.generate(Curve.ED25519)
    verifier = CredentialVerifier.from_trust_list(StaticTrustList.of({UNIVERSITY: [key]}))
    claims = example_credential(type="VerifiableCredential")
    report = verifier.verify_credential(sign_vc(claims, key, None))
    assert report.passed and report.credential is not None
    assert report.credential.credential_type == "VerifiableCredential"
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(sign_vc(example_credential(type="Degree"), key, None))
    assert err.value.check == "format" and "type must include VerifiableCredential" in str(err)


def test_an_issuer_not_on_the_list_or_an_unlisted_key_fails_key_valid() -> None:
    listed, other = Jwk.generate(Curve.P256), Jwk.generate(Curve.P256)
    verifier = CredentialVerifier.from_trust_list(StaticTrustList.of({UNIVERSITY: [listed]}))
    stranger = sign_vc(example_credential("https://else.example"), listed, None)
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(stranger)
    assert err.value.check == "key_valid"
    assert "https://else.example is not in the static trust list" in err.value.message
    unlisted = sign_vc(example_credential(), other, other.thumbprint_b64())
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(unlisted)
    assert err.value.check == "key_valid" and "names no key listed" in err.value.message
    # A kid that names the listed key does not make another key's signature good.
    spoofed = sign_vc(example_credential(), other, listed.thumbprint_b64())
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(spoofed)
    assert err.value.check == "signature"
    report = err.value.credential_report
    assert isinstance(report.to_dict(), dict)
    assert report.verdict == "not verified: signature failed"
    for name in CHAIN_CHECKS:  # never passed, whatever else happened
        assert report.check(name).status is not CheckStatus.PASSED


@pytest.mark.parametrize("kind", ["did:jwk", "did:key"])
@pytest.mark.parametrize("curve", [Curve.ED25519, Curve.P256])
def test_did_issuers_verify_only_when_listed(kind: str, curve: Curve) -> None:
    key = Jwk.generate(curve)
    did = did_jwk(key) if kind == "did:jwk" else did_key(key)
    assert did_key_jwk(did).thumbprint() == key.thumbprint()
    token = sign_vc(example_credential(did), key, did + "#0")
    verifier = CredentialVerifier.from_trust_list(StaticTrustList.of(dids=[did]))
    report = verifier.verify_credential(token)
    assert report.passed
    assert_chain_checks_skipped(report)
    other = Jwk.generate(curve)
    other_did = did_jwk(other) if kind == "did:jwk" else did_key(other)
    stranger = sign_vc(example_credential(other_did), other, other_did + "#0")
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(stranger)
    assert err.value.check == "key_valid" and "not in the static trust list" in err.value.message


def test_our_own_credential_verifies_without_the_chain_with_its_schema_checked(
    world: TrustWorld, school: DemoIssuer
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    issuer = issued.claims["issuer"]
    # The embedded chain's clock runs ahead of ours once other tests have moved it.
    verifier = CredentialVerifier.from_trust_list(
        StaticTrustList.of({issuer: [school.key]}), clock=world.now
    )
    report = verifier.verify_credential(issued.token)
    assert report.passed and report.credential is not None
    assert report.credential.issuer_id == school.entity_id
    assert report.credential.credential_id == issued.credential_id
    assert_chain_checks_skipped(report)
    header, payload, _ = forge.split(issued.token)
    payload["credentialSubject"] = dict(DIPLOMA_SUBJECT, graduationDate="not a date")
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(forge.sign(header, payload, school.key))
    assert err.value.check == "format" and "graduationDate" in err.value.message


def test_a_presentation_verifies_against_a_static_trust_list(
    world: TrustWorld, school: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    trust_list = StaticTrustList.of({issued.claims["issuer"]: [school.key.public_jwk()]})
    verifier = CredentialVerifier.from_trust_list(trust_list, clock=world.now)
    vp = present_vc_jwt(
        [issued.token], holder_key=holder, nonce="n", audience="a", issued_at=world.now()
    )
    report = verifier.verify_presentation(vp, nonce="n", audience="a")
    assert report.passed and report.verdict.startswith("verified; skipped: ")
    assert report.credentials[0].check("holder_binding").status is CheckStatus.PASSED
    assert set(CHAIN_CHECKS) <= set(report.to_dict()["skipped"])


def test_required_anchoring_fails_closed_without_a_chain() -> None:
    key = Jwk.generate(Curve.ED25519)
    verifier = CredentialVerifier.from_trust_list(
        StaticTrustList.of({UNIVERSITY: [key]}),
        policy=VerificationPolicy(require_anchoring=True),
    )
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(sign_vc(example_credential(), key, None))
    assert err.value.check == "anchoring" and "no chain" in err.value.message


def test_the_verifier_without_a_chain_answers_no_chain_question() -> None:
    verifier = CredentialVerifier.from_trust_list(
        StaticTrustList.of({UNIVERSITY: [Jwk.generate(Curve.ED25519)]})
    )
    with pytest.raises(TrustStateError, match="no chain"):
        verifier.trust.entity_registered(bytes(32))
    with pytest.raises(TrustStateError, match="no chain"):
        verifier.trust.credential_status_at(bytes(32), 0)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: StaticTrustList.of({}), "the trust list is empty"),
        (lambda: StaticTrustList.of({UNIVERSITY: []}), "has no key"),
        (lambda: StaticTrustList.of(dids=["did:web:university.example"]), "neither a did:jwk"),
        (lambda: StaticTrustList.of(dids=["did:key:z0OIl"]), "not a base58btc character"),
        (
            lambda: StaticTrustList.of(
                dids=[
                    "did:jwk:"
                    + b64url_encode(json.dumps(Jwk.generate(Curve.P256).private_jwk()).encode())
                ]
            ),
            "must hold a public JWK",
        ),
        (lambda: CredentialVerifier.from_trust_list({UNIVERSITY: []}), "StaticTrustList"),  # type: ignore[arg-type]
    ],
)
def test_a_trust_list_that_trusts_nothing_or_anything_is_refused(build: Any, words: str) -> None:
    with pytest.raises(FormatError) as err:
        build()
    assert words in str(err.value)


def test_private_keys_are_not_kept_in_the_list() -> None:
    key = Jwk.generate(Curve.ED25519)
    trust_list = StaticTrustList.of({UNIVERSITY: [key]})
    assert not trust_list.issuers[UNIVERSITY][0].has_private
