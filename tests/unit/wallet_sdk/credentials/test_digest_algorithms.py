"""SM3 beside SHA-256 for the digest a credential is registered and anchored by (issue #17):
an SM3 credential names its hash in the protected header (``hrss_digest_alg``), a SHA-256 one
names none (tokens as before SM3); the verifier recomputes the digest with the named hash for
the registration and the anchoring checks, and refuses an unknown or explicit SHA-256 name
(``format``) and a digest of the other hash (``registration``, ``anchoring``).

SM3 itself is pinned to GB/T 32905's vectors in tests/unit/wallet_sdk/test_sm3.py."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.unit.wallet_sdk.credentials import conftest as credential_fixtures
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk import HashAlgorithm
from wallet_sdk.credentials import (
    DIGEST_ALG_HEADER,
    CredentialVerificationError,
    CredentialVerifier,
    IssuedCredential,
    credential_digest,
    present_sd_jwt,
)
from wallet_sdk.credentials._model import canonical_json
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, Jwk, b64url_encode, read_unverified_header, sign_compact
from wallet_sdk.receipt import CheckStatus

SM3 = HashAlgorithm.SM3
# The credential tests' session chain with a Beijing school accredited for diplomas.
world = credential_fixtures.world
school = credential_fixtures.school
verifier = credential_fixtures.verifier
trust_state = credential_fixtures.trust_state
assessor = credential_fixtures.assessor


def _failure(verifier: CredentialVerifier, token: str, **kw: Any) -> tuple[str, str]:
    verifier.trust.refresh()  # type: ignore[attr-defined]
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(token, **kw)
    return err.value.check, err.value.message


def _resigned(world: TrustWorld, school: DemoIssuer, issued: IssuedCredential, alg: Any) -> str:
    """`issued`'s claims signed again by the school, its header naming `alg` as the hash."""
    key = school.key.with_kid(b64url_encode(school.key.thumbprint()))
    headers = {"typ": "vc+jwt", DIGEST_ALG_HEADER: alg}
    return sign_compact(canonical_json(issued.claims), key, headers=headers)


def test_an_sm3_credential_names_sm3_and_verifies_registered_and_anchored(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, digest_alg=SM3)
    assert read_unverified_header(issued.token)[DIGEST_ALG_HEADER] == "sm3"
    assert issued.digest == SM3.digest(issued.token.encode()) == credential_digest(issued.token)
    [receipt] = world.anchor(school, [issued], algorithm=SM3).values()
    assert receipt.hash_algorithm == "sm3"
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_credential(issued.token, anchor_receipt=receipt)
    assert report.passed
    assert report.check("registration").status is CheckStatus.PASSED
    assert report.check("anchoring").status is CheckStatus.PASSED


def test_a_sha256_credential_names_no_hash_and_still_verifies(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    assert DIGEST_ALG_HEADER not in read_unverified_header(issued.token)
    assert issued.digest == hashlib.sha256(issued.token.encode()).digest()
    [receipt] = world.anchor(school, [issued]).values()
    verifier.trust.refresh()  # type: ignore[attr-defined]
    assert verifier.verify_credential(issued.token, anchor_receipt=receipt).passed


def test_an_sm3_sd_jwt_presentation_verifies(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    issued = world.issue(
        school,
        "TechnicalSchoolDiploma",
        DIPLOMA_SUBJECT,
        sd=True,
        holder_key=holder,
        digest_alg=SM3,
    )
    assert issued.digest == SM3.digest(issued.token.split("~")[0].encode())
    receipts = world.anchor(school, [issued], algorithm=SM3)
    presented = present_sd_jwt(
        issued.token,
        disclose=["name"],
        holder_key=holder,
        nonce="n-1",
        audience="urn:test",
        issued_at=world.now(),
    )
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_presentation(
        presented, nonce="n-1", audience="urn:test", anchor_receipts=receipts
    )
    assert report.passed, report


@pytest.mark.parametrize(
    ("alg", "words"),
    [
        ("sha-512", "hrss_digest_alg 'sha-512' is not a known digest"),
        ("SM3", "hrss_digest_alg 'SM3' is not a known digest"),
        (1, "hrss_digest_alg 1 is not a known digest"),
        ("sha-256", "a SHA-256 credential names no hrss_digest_alg"),
    ],
)
def test_an_unknown_or_explicit_sha256_hash_fails_format(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, alg: Any, words: str
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, register_status=False)
    token = _resigned(world, school, issued, alg)
    assert _failure(verifier, token) == ("format", words)
    with pytest.raises(FormatError, match="hrss_digest_alg"):
        credential_digest(token)


def test_an_sm3_credential_registered_by_its_sha256_digest_fails_registration(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(
        school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, digest_alg=SM3, register_status=False
    )
    world.clients.status_registry.register(
        school.controller,
        issuer=school.entity_id,
        credential_ids=[issued.credential_id],
        digests=[hashlib.sha256(issued.token.encode()).digest()],
    )
    check, message = _failure(verifier, issued.token)
    assert check == "registration" and "registered with other content" in message


def test_an_sm3_credential_with_a_sha256_receipt_fails_anchoring(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, digest_alg=SM3)
    [receipt] = world.anchor(school, [issued]).values()  # a SHA-256 tree of the SM3 digest
    check, message = _failure(verifier, issued.token, anchor_receipt=receipt)
    assert check == "anchoring" and "receipt is for a digest of sha-256" in message
