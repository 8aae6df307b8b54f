"""Issuance requiring the e-card and a credential presented with it, over the HTTP API
(in-process chain, SQLite and PostgreSQL): the issuer sends the holder's card proof with
``POST /v1/credentials`` and the credential is bound to the card's key; a card of someone else,
a proof for another challenge or issuer, a missing proof and another holder key are refused,
each with its code; ``POST /v1/presentations/verify`` with ``with_card`` checks one holder and
reports the card claims disclosed. The whole flow over anvil and the wallet command is
``tests/e2e/test_card_bound_credentials.py``."""

from __future__ import annotations

from typing import Any

import pytest

from credential_service.credentials.runtime import CredentialRuntime
from credential_service.models import OrganisationKind
from tests.integration.credential_service.conftest import Service
from wallet_sdk.credentials import issuer_uri
from wallet_sdk.credentials.card_proof import (
    ISSUANCE_PURPOSE,
    card_nonce,
    present_card,
    present_with_card,
)
from wallet_sdk.jose import Curve, Jwk

PERSON = {"name": "周芷若", "idNumber": "44030519880512004X"}
CARD = {
    **PERSON,
    "cardNumber": "M44055555",
    "issuingRegion": "440305",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}
OTHER_CARD = {**CARD, "name": "殷离", "idNumber": "440106199003070028", "cardNumber": "M44066666"}
SKILL = {
    **PERSON,
    "occupationCode": "4-01-02-01",
    "occupationName": "电工",
    "level": 3,
    "certificateNumber": "S440300202600777",
    "assessedOn": "2026-06-01",
}
SKILL_TYPE = "VocationalSkillCertificate"


def _client(service: Service, role: OrganisationKind) -> str:
    return service.credential(role).client_id


@pytest.fixture(scope="module")
def issuers(service: Service, runtime: CredentialRuntime) -> dict[str, str]:
    """The card centre allowed the e-card, the school skill certificates (by Guangdong), and
    the school's issuer identifier (the audience of card proofs sent to it)."""
    province = _client(service, OrganisationKind.PROVINCE)
    centre = _client(service, OrganisationKind.CARD_ISSUER)
    school = _client(service, OrganisationKind.ISSUER)
    for term, issuer in (("SocialSecurityCard", centre), (SKILL_TYPE, school)):
        allowed = service.client.put(
            f"/v1/credential-types/{term}/issuers/{issuer}",
            json={"allowed": True},
            headers=service.headers(province),
        )
        assert allowed.status_code == 200, allowed.text
    profile = service.client.get(
        f"/v1/registry/organisations/{school}", headers=service.headers(school)
    )
    assert profile.status_code == 200, profile.text
    audience = issuer_uri(bytes.fromhex(profile.json()["entity_id"][2:]))
    return {"centre": centre, "school": school, "audience": audience}


def _issue(service: Service, issuer: str, *requests: dict[str, Any]) -> Any:
    return service.client.post(
        "/v1/credentials", json={"credentials": list(requests)}, headers=service.headers(issuer)
    )


def _card(service: Service, issuers: dict[str, str], holder: Jwk, subject: Any = CARD) -> str:
    response = _issue(
        service,
        issuers["centre"],
        {
            "type": "SocialSecurityCard",
            "format": "vc+sd-jwt",
            "subject": subject,
            "holder_jwk": holder.public().public_jwk(),
        },
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["credentials"][0]["credential"]
    return token


def _proof(
    runtime: CredentialRuntime,
    card: str,
    holder: Jwk,
    *,
    challenge: str,
    audience: str,
    disclose: tuple[str, ...] = ("name", "idNumber"),
) -> dict[str, str]:
    presentation = present_card(
        card,
        holder_key=holder,
        disclose=disclose,
        nonce=card_nonce(ISSUANCE_PURPOSE, challenge),
        audience=audience,
        issued_at=runtime.verifier.now(),
    )
    return {"presentation": presentation, "challenge": challenge}


def _skill(card_proof: dict[str, str] | None, **more: Any) -> dict[str, Any]:
    return {
        "type": SKILL_TYPE,
        "format": "vc+sd-jwt",
        "subject": SKILL,
        "disclosable": list(SKILL),
        "card_proof": card_proof,
        "require_card": True,
        **more,
    }


def _refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def test_an_issuer_requiring_the_card_issues_to_the_cards_key(
    service: Service, runtime: CredentialRuntime, issuers: dict[str, str]
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(service, issuers, holder)
    proof = _proof(runtime, card, holder, challenge="apply-0001", audience=issuers["audience"])
    response = _issue(service, issuers["school"], _skill(proof))
    assert response.status_code == 201, response.text
    token = response.json()["credentials"][0]["credential"]
    verified = runtime.verifier.verify_credential(token).credential
    assert verified is not None and verified.holder_key is not None
    assert verified.holder_key.thumbprint() == holder.thumbprint()
    # the holder shows level and occupation with "is this 周芷若?" in one presentation
    nonce, audience = "verifier-nonce-7", "https://hr.example/hiring"
    presentation = present_with_card(
        token,
        card,
        holder_key=holder,
        disclose=["level", "occupationName"],
        card_disclose=["name"],
        nonce=nonce,
        audience=audience,
        issued_at=runtime.verifier.now(),
    )
    court = _client(service, OrganisationKind.COURT)
    body = {
        "presentation": presentation,
        "nonce": nonce,
        "audience": audience,
        "with_card": {"require": ["level", "occupationName"], "expected_name": "周芷若"},
    }
    report = service.client.post(
        "/v1/presentations/verify", json=body, headers=service.headers(court)
    ).json()
    assert report["verified"] is True, report
    assert report["format"] == "vp+jwt"
    assert {"check": "same_holder", "status": "passed"}.items() <= report["checks"][-1].items()
    shown = [c["credential"]["subject"] for c in report["credentials"]]
    assert shown == [{"level": 3, "occupationName": "电工"}, {"name": "周芷若"}]
    card_part = report["card"]
    assert card_part["name_matches"] is True
    assert card_part["card"]["claims"] == {"name": "周芷若"}
    assert card_part["card"]["issuer"]["credit_code"] == issuers["centre"]
    assert card_part["credential"] == "0x" + verified.credential_id.hex()
    other_name = {**body, "with_card": {"expected_name": "赵敏"}}
    answer = service.client.post(
        "/v1/presentations/verify", json=other_name, headers=service.headers(court)
    ).json()
    assert (answer["verified"], answer["card"]["name_matches"]) == (True, False)


def test_a_card_of_someone_else_is_refused(
    service: Service, runtime: CredentialRuntime, issuers: dict[str, str]
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(service, issuers, holder, OTHER_CARD)
    proof = _proof(runtime, card, holder, challenge="apply-0002", audience=issuers["audience"])
    body = _refused(_issue(service, issuers["school"], _skill(proof)), 403, "card_subject_mismatch")
    assert body["message"] == "the holder's e-card names another person than the credential subject"
    assert body["detail"] == {"index": 0, "claims": ["name", "idNumber"]}
    assert OTHER_CARD["name"] not in str(body) and CARD["name"] not in str(body)


def test_a_proof_must_be_for_this_issuer_and_challenge_and_show_the_identity(
    service: Service, runtime: CredentialRuntime, issuers: dict[str, str]
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(service, issuers, holder)
    school = issuers["school"]
    for_another_issuer = _proof(
        runtime, card, holder, challenge="apply-0003", audience=issuer_uri(bytes(32))
    )
    body = _refused(_issue(service, school, _skill(for_another_issuer)), 400, "card_proof_invalid")
    assert body["detail"] == {"index": 0, "check": "holder_binding"}
    assert body["message"].startswith("the e-card proof fails holder_binding: audience")
    proof = _proof(runtime, card, holder, challenge="apply-0003", audience=issuers["audience"])
    replayed = {**proof, "challenge": "apply-0004"}
    body = _refused(_issue(service, school, _skill(replayed)), 400, "card_proof_invalid")
    assert body["detail"] == {"index": 0, "check": "holder_binding"}
    name_only = _proof(
        runtime, card, holder, challenge="apply-0005", audience=issuers["audience"],
        disclose=("name",),
    )  # fmt: skip
    body = _refused(_issue(service, school, _skill(name_only)), 400, "card_proof_invalid")
    assert body["detail"] == {"index": 0, "check": "card"}
    assert (
        body["message"]
        == "the e-card proof fails card: the e-card proof does not disclose idNumber"
    )
    # a certificate is no e-card
    certificate = _issue(
        service, school, _skill(None, require_card=False, holder_jwk=holder.public_jwk())
    )
    assert certificate.status_code == 201, certificate.text
    not_a_card = _proof(
        runtime, certificate.json()["credentials"][0]["credential"], holder,
        challenge="apply-0006", audience=issuers["audience"],
    )  # fmt: skip
    body = _refused(_issue(service, school, _skill(not_a_card)), 400, "card_proof_invalid")
    assert body["detail"] == {"index": 0, "check": "card"}


def test_without_a_proof_or_with_another_key_nothing_is_issued(
    service: Service, runtime: CredentialRuntime, issuers: dict[str, str]
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    school = issuers["school"]
    body = _refused(
        _issue(service, school, _skill(None, holder_jwk=holder.public_jwk())),
        400,
        "card_proof_required",
    )
    assert body["detail"] == {"index": 0}
    card = _card(service, issuers, holder)
    proof = _proof(runtime, card, holder, challenge="apply-0007", audience=issuers["audience"])
    another = Jwk.generate(Curve.ED25519).public_jwk()
    _refused(
        _issue(service, school, _skill(proof, holder_jwk=another)), 403, "card_holder_mismatch"
    )
    # the card's own key named as holder_jwk is the same binding
    same = _issue(service, school, _skill(proof, holder_jwk=holder.public_jwk()))
    assert same.status_code == 201, same.text


def test_a_presentation_with_the_card_of_another_holder_fails_same_holder(
    service: Service, runtime: CredentialRuntime, issuers: dict[str, str]
) -> None:
    holder, other = Jwk.generate(Curve.ED25519), Jwk.generate(Curve.ED25519)
    card = _card(service, issuers, holder)
    proof = _proof(runtime, card, holder, challenge="apply-0008", audience=issuers["audience"])
    issued = _issue(service, issuers["school"], _skill(proof))
    assert issued.status_code == 201, issued.text
    others_card = _card(service, issuers, other, OTHER_CARD)
    presentation = present_with_card(
        issued.json()["credentials"][0]["credential"],
        others_card,
        holder_key=holder,
        disclose=["level"],
        card_disclose=["name"],
        nonce="n-8",
        audience="https://hr.example/hiring",
        issued_at=runtime.verifier.now(),
    )
    report = service.client.post(
        "/v1/presentations/verify",
        json={
            "presentation": presentation,
            "nonce": "n-8",
            "audience": "https://hr.example/hiring",
            "with_card": {},
        },
        headers=service.headers(_client(service, OrganisationKind.COURT)),
    ).json()
    assert report["verified"] is False
    assert report["verdict"] == "not verified: same_holder failed"
    assert report["card"] == {
        "verified": False,
        "check": "same_holder",
        "detail": "the e-card is bound to another holder key than the credential",
    }


def test_malformed_proofs_and_presentations_are_refused_by_name(
    service: Service, runtime: CredentialRuntime, issuers: dict[str, str]
) -> None:
    junk_proof = {"presentation": "not-a-proof", "challenge": "apply-0009"}
    body = _refused(
        _issue(service, issuers["school"], _skill(junk_proof)), 400, "card_proof_invalid"
    )
    assert body["detail"] == {"index": 0, "check": "card"}
    court = service.headers(_client(service, OrganisationKind.COURT))
    for junk in ("x~y~", "a.b.c", "e30.e30.e30", "{}"):
        answer = service.client.post(
            "/v1/presentations/verify",
            json={"presentation": junk, "nonce": "n", "audience": "a", "with_card": {}},
            headers=court,
        )
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["verified"] is False and report["card"]["verified"] is False, report
        assert report["verdict"] == f"not verified: {report['card']['check']} failed"
