"""The verification pipeline: happy paths and every reject path, each naming its check."""

from __future__ import annotations

import json

import pytest

from node_adapter import CredentialStatus, EntityStatus, TransactionReverted
from tests.unit.wallet_sdk.credentials import forge
from tests.unit.wallet_sdk.credentials.world import (
    DIPLOMA_SUBJECT,
    SKILL_SUBJECT,
    DemoIssuer,
    TrustWorld,
)
from wallet_sdk import VerificationError
from wallet_sdk.credentials import (
    CHECKS,
    CredentialVerificationError,
    CredentialVerifier,
    IssuanceError,
    VerificationPolicy,
)
from wallet_sdk.credentials._model import rfc3339
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm, b64url_encode
from wallet_sdk.nesting import MAX_JSON_DEPTH
from wallet_sdk.receipt import CheckStatus


def rejected(
    verifier: CredentialVerifier, token: str, check: str, words: str, **kw: object
) -> None:
    verifier.trust.refresh()  # type: ignore[attr-defined]
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(token, **kw)  # type: ignore[arg-type]
    assert isinstance(err.value, VerificationError)
    assert err.value.check == check, err.value
    assert words in err.value.message, err.value.message
    report = err.value.credential_report
    assert not report.passed
    assert report.first_failure is not None and report.first_failure.name == check


def test_diploma_vc_jwt_verifies_with_every_check_reported(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_credential(issued.token, as_of=world.now())
    assert report.passed
    assert [c.name for c in report.checks] == list(CHECKS)
    assert report.check("anchoring").status is CheckStatus.SKIPPED
    assert report.check("holder_binding").status is CheckStatus.SKIPPED
    credential = report.credential
    assert credential is not None
    assert credential.credential_type == "TechnicalSchoolDiploma"
    assert credential.issuer_id == school.entity_id
    assert credential.subject["diplomaNumber"] == "D110105202500042"
    document = report.to_dict()
    assert document["verified"] is True
    # Times a person reads are RFC 3339 (ISO 8601) with the zone, not unix seconds.
    assert document["as_of"] == rfc3339(world.now()) and document["as_of"].endswith("Z")
    assert document["credential"]["issued_at"] == rfc3339(credential.issued_at)


def test_es256_sd_jwt_credential_verifies(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    report = verifier.verify_credential(issued.token, as_of=world.now())
    assert report.credential is not None
    assert report.credential.subject["idNumber"] == SKILL_SUBJECT["idNumber"]
    assert report.credential.subject["level"] == 3


def test_tampered_payload_fails_signature(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, register_status=False)
    _, payload, _ = forge.split(issued.token)
    payload["credentialSubject"]["programme"] = "预备技师（技师）班"
    tampered = forge.replace_payload(issued.token, payload)
    # Registered as tampered (the chain account, not the key, in the attacker's hands): only
    # the signature stands in the way.
    world.register_token(school, issued.credential_id, tampered)
    rejected(verifier, tampered, "signature", "does not verify")


def test_tampered_payload_of_a_registered_credential_fails_registration(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    _, payload, _ = forge.split(issued.token)
    payload["credentialSubject"]["programme"] = "预备技师（技师）班"
    tampered = forge.replace_payload(issued.token, payload)
    rejected(verifier, tampered, "registration", "registered with other content")


def test_tampered_disclosure_fails_format(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True)
    jwt, *disclosures, _ = issued.token.split("~")
    fake = b64url_encode(b'["c2FsdA","level",1]')
    rejected(verifier, "~".join([jwt, *disclosures, fake]) + "~", "format", "match no digest")


def test_wrong_key_fails_signature(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    attacker = Jwk.generate(Curve.ED25519).with_kid(school.key.thumbprint_b64())
    issued = world.issue(
        school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, key=attacker, register_status=False
    )
    # The issuer module uses the key's own thumbprint as kid; point it at the school's key.
    header, payload, _ = forge.split(issued.token)
    header["kid"] = school.key.thumbprint_b64()
    forged = forge.sign(header, payload, attacker)
    world.register_token(school, issued.credential_id, forged)
    rejected(verifier, forged, "signature", "does not verify")


def test_unregistered_issuer_fails_issuer_accredited(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    rogue = Jwk.generate(Curve.ED25519)
    issued = world.issue(
        school,
        "TechnicalSchoolDiploma",
        DIPLOMA_SUBJECT,
        key=rogue,
        issuer_id=b"\x42" * 32,
        register_status=False,
    )
    # An unregistered issuer has no controller on chain, so nothing registers its
    # credentials; one registered by somebody else is not its credential.
    rejected(verifier, issued.token, "registration", "not registered in StatusRegistry")
    world.register_token(school, issued.credential_id, issued.token)
    rejected(verifier, issued.token, "registration", "registered by another issuer")


def test_issuer_not_accredited_for_the_type(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "VocationalSkillCertificate", SKILL_SUBJECT)
    rejected(
        verifier,
        issued.token,
        "issuer_accredited",
        "not accredited for VocationalSkillCertificate",
        as_of=world.now(),
    )


def test_suspended_issuer(world: TrustWorld, make_verifier) -> None:  # type: ignore[no-untyped-def]
    issuer = world.add_issuer(
        "suspended-school", province="beijing", region=110108, types=["TechnicalSchoolDiploma"]
    )
    before = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    world.set_issuer_status(issuer, EntityStatus.SUSPENDED)
    after = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, register_status=False)
    # A suspended issuer cannot register on chain, so nothing it signs now can verify.
    with pytest.raises(TransactionReverted, match="EntityNotActive"):
        world.register_status(issuer, after)
    verifier = make_verifier()
    rejected(verifier, after.token, "registration", "not registered", as_of=world.now())
    # Issued while the issuer was in good standing: valid as of its issue time.
    assert verifier.verify_credential(before.token, as_of=world.now()).passed


def test_revoked_and_suspended_credentials_fail_status(
    world: TrustWorld, school: DemoIssuer, make_verifier
) -> None:  # type: ignore[no-untyped-def]
    suspended = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    revoked = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    before = world.now()
    world.set_status(school, suspended, CredentialStatus.SUSPENDED, reason=21)
    world.set_status(school, revoked, CredentialStatus.REVOKED, reason=31)
    verifier = make_verifier()
    rejected(verifier, suspended.token, "status", "suspended", as_of=world.now())
    rejected(verifier, revoked.token, "status", "revoked", as_of=world.now())
    # "As of" before the change, both were active.
    assert verifier.verify_credential(revoked.token, as_of=before).passed
    world.set_status(school, suspended, CredentialStatus.ACTIVE, reason=22)
    assert make_verifier().verify_credential(suspended.token, as_of=world.now()).passed


def test_unregistered_status_entry_fails_status(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, register_status=False)
    rejected(
        verifier,
        issued.token,
        "registration",
        "not registered in StatusRegistry",
        as_of=world.now(),
    )


def test_expired_and_not_yet_valid(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    now = world.now()
    expired = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, valid_until=now + 3600)
    future = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, valid_from=now + 86400)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    rejected(verifier, expired.token, "validity_period", "expired", as_of=now + 7200)
    assert verifier.verify_credential(expired.token, as_of=now + 60).passed
    rejected(verifier, future.token, "validity_period", "not yet valid", as_of=now + 60)


def test_alg_none_fails_algorithm_allowlist(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    header, payload, _ = forge.split(issued.token)
    header["alg"] = "none"
    rejected(verifier, forge.unsigned(header, payload), "algorithm_allowlist", "'none'")


def test_hmac_algorithm_confusion_fails_algorithm_allowlist(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    header, payload, _ = forge.split(issued.token)
    header["alg"] = "HS256"
    token = forge.hs256(header, payload, school.key.raw_public_key())
    rejected(verifier, token, "algorithm_allowlist", "not in the allowlist")


def test_curve_confusion_fails_signature(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, register_status=False)
    header, payload, _ = forge.split(issued.token)
    header["alg"] = "ES256"
    token = forge.sign(header, payload, Jwk.generate(Curve.P256))
    world.register_token(school, issued.credential_id, token)
    rejected(verifier, token, "signature", "algorithm confusion")


@pytest.mark.parametrize("name", ["jwk", "x5c", "jku"])
def test_key_in_header_is_not_trusted(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier, name: str
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    header, payload, _ = forge.split(issued.token)
    attacker = Jwk.generate(Curve.ED25519)
    header[name] = {"jwk": attacker.public_jwk(), "x5c": ["MIIB"], "jku": "https://evil.example/k"}[
        name
    ]
    rejected(verifier, forge.sign(header, payload, attacker), "format", "not trusted")


def test_kid_pointing_at_another_issuers_key_fails_key_valid(
    world: TrustWorld, school: DemoIssuer, assessor: DemoIssuer, verifier: CredentialVerifier
) -> None:
    # Signed by the (genuine, registered) assessor key, but claiming the school as issuer.
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, key=assessor.key)
    rejected(verifier, issued.token, "key_valid", "not of the issuer", as_of=world.now())


def test_unknown_kid_fails_key_valid(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(
        school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, key=Jwk.generate(Curve.ED25519)
    )
    rejected(verifier, issued.token, "key_valid", "no key registered", as_of=world.now())


def test_oversized_token_fails_format(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    header, payload, _ = forge.split(issued.token)
    payload["padding"] = "x" * 70_000
    rejected(verifier, forge.sign(header, payload, school.key), "format", "longer than")


def test_deeply_nested_payload_fails_format_before_parsing(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    header, payload, _ = forge.split(issued.token)
    payload["deep"] = json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    deep = forge.sign(header, payload, school.key)
    rejected(verifier, deep, "format", f"nests arrays and objects deeper than {MAX_JSON_DEPTH}")


def test_duplicate_json_members_fail_format(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    head, body, _ = issued.token.split(".")
    from wallet_sdk.jose import b64url_decode

    text = b64url_decode(body).decode()
    duplicated = text[:-1] + ',"iat":1}'
    token = f"{head}.{b64url_encode(duplicated.encode())}.{issued.token.split('.')[2]}"
    rejected(verifier, token, "format", "duplicate")


def test_schema_violation_fails_format(
    world: TrustWorld, assessor: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(assessor, "VocationalSkillCertificate", SKILL_SUBJECT)
    header, payload, _ = forge.split(issued.token)
    payload["credentialSubject"]["level"] = 7
    rejected(verifier, forge.sign(header, payload, assessor.key), "format", "level")


def test_non_strict_mode_returns_the_report(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    report = verifier.verify_credential("not-a-token", strict=False)
    assert not report.passed
    assert report.check("format").status is CheckStatus.FAILED
    assert all(c.status is CheckStatus.SKIPPED for c in report.checks[1:])


def test_policy_fails_closed() -> None:
    with pytest.raises(FormatError, match="empty"):
        VerificationPolicy(algorithms=frozenset())
    with pytest.raises(FormatError):
        VerificationPolicy(algorithms=frozenset({"HS256"}))  # type: ignore[arg-type]
    assert VerificationPolicy().algorithms == {
        JwsAlgorithm.EDDSA,
        JwsAlgorithm.ES256,
        JwsAlgorithm.ES384,
        JwsAlgorithm.ES512,
        JwsAlgorithm.SM2SM3,
    }  # never ES256K: secp256k1 keys are the wallets' chain accounts


def test_anchoring_required_by_policy(world: TrustWorld, school: DemoIssuer, make_verifier) -> None:  # type: ignore[no-untyped-def]
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    rejected(
        make_verifier(require_anchoring=True),
        issued.token,
        "anchoring",
        "required",
        as_of=world.now(),
    )


def test_issuance_rejects_invalid_subject_and_keys(world: TrustWorld, school: DemoIssuer) -> None:
    with pytest.raises(IssuanceError, match="level"):
        world.issue(school, "VocationalSkillCertificate", {**SKILL_SUBJECT, "level": 0})
    with pytest.raises(IssuanceError, match="private"):
        world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, key=school.key.public())
    with pytest.raises(IssuanceError, match="issuance algorithm"):
        world.issue(
            school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, key=Jwk.generate(Curve.SECP256K1)
        )


def _tampered_and_registered(world: TrustWorld, school: DemoIssuer) -> str:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, register_status=False)
    _, payload, _ = forge.split(issued.token)
    payload["credentialSubject"]["major"] = "焊接"
    tampered = forge.replace_payload(issued.token, payload)
    world.register_token(school, issued.credential_id, tampered)
    return tampered


def test_signature_check_without_libsodium(
    world: TrustWorld,
    school: DemoIssuer,
    verifier: CredentialVerifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The OpenSSL path (no PyNaCl installed) accepts and rejects the same tokens."""
    from wallet_sdk.credentials import verifier as module

    monkeypatch.setattr(module, "_sodium_verify", None)
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    assert verifier.verify_credential(issued.token, as_of=world.now()).passed
    rejected(verifier, _tampered_and_registered(world, school), "signature", "does not verify")


def test_signature_check_through_pynacl_public_binding(
    world: TrustWorld,
    school: DemoIssuer,
    verifier: CredentialVerifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PyNaCl's public `crypto_sign_open` (used when its internal layout differs) accepts and
    rejects the same tokens as the direct libsodium call."""
    from wallet_sdk.credentials import verifier as module

    monkeypatch.setattr(module, "_sodium_verify", module._sodium_verify_wrapped)
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    verifier.trust.refresh()  # type: ignore[attr-defined]
    assert verifier.verify_credential(issued.token, as_of=world.now()).passed
    rejected(verifier, _tampered_and_registered(world, school), "signature", "does not verify")
