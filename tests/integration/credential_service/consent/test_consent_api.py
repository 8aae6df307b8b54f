"""Consent through the HTTP API: requests, relayed grants and withdrawals, checks before use,
the reject paths, and who may see which consents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from credential_service.api.deps import get_now
from credential_service.credentials.runtime import CredentialRuntime
from tests.integration.credential_service.consent.harness import PERSON_ID_NUMBER, ConsentService
from wallet_sdk.consent import (
    ConsentRequest,
    Purpose,
    SignedConsent,
    present_identity_proof,
    sign_grant,
    verify_consent_receipt,
)
from wallet_sdk.credentials import CredentialVerifier
from wallet_sdk.errors import VerificationError
from wallet_sdk.wallet import Wallet


def _now() -> int:
    return int(time.time())


def _review(
    service: ConsentService, wallet: Wallet, data_user: str, **asked: Any
) -> ConsentRequest:
    created = service.request_consent(data_user, wallet, **asked)
    return wallet.review_consent(created["qr"], trusted_keys=service.trust, now=_now())


def _relay(service: ConsentService, wallet: Wallet, signed: SignedConsent) -> Any:
    return service.client.post("/v1/consents", json=signed.to_json(), headers=service.login(wallet))


def _grant(
    service: ConsentService, wallet: Wallet, data_user: str, **choice: Any
) -> tuple[SignedConsent, str]:
    request = _review(service, wallet, data_user)
    signed = wallet.grant_consent(request, now=_now(), **choice)
    response = _relay(service, wallet, signed)
    assert response.status_code == 201, response.text
    wallet.add_consent_receipt(response.json()["receipt"], trusted_keys=service.trust)
    return signed, response.json()["consent_id"]


def _withdraw(service: ConsentService, wallet: Wallet, signed: SignedConsent) -> Any:
    withdrawal = wallet.withdraw_consent(signed.consent_id)
    return service.client.post(
        f"/v1/consents/0x{signed.consent_id.hex()}/withdrawal",
        json=withdrawal.to_json(),
        headers=service.login(wallet),
    )


@contextmanager
def _clock(service: ConsentService, at: int) -> Iterator[None]:
    overrides = service.client.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[get_now] = lambda: datetime.fromtimestamp(at, UTC)
    try:
        yield
    finally:
        overrides.pop(get_now, None)


def _denied(service: ConsentService, data_user: str, consent_id: str, purpose: str) -> str:
    response = service.check(data_user, consent_id, purpose)
    assert response.status_code == 200, response.text
    assert response.json()["allowed"] is False
    reason: str = response.json()["reason"]
    return reason


# -- the happy path ----------------------------------------------------------------------------


def test_grant_check_withdraw(consent_service: ConsentService) -> None:
    service = consent_service
    data_user = service.data_users[0]
    wallet = service.wallet()
    signed, consent_id = _grant(service, wallet, data_user)
    assert consent_id == "0x" + signed.consent_id.hex()
    allowed = service.check(data_user, consent_id)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["allowed"] is True and allowed.json()["reason"] == "granted"
    response = _withdraw(service, wallet, signed)
    assert response.status_code == 200, response.text
    wallet.add_consent_receipt(response.json()["receipt"], trusted_keys=service.trust)
    assert _denied(service, data_user, consent_id, "recruitment") == "withdrawn"
    again = _withdraw(service, wallet, signed)
    assert again.status_code == 409 and again.json()["code"] == "consent_already_withdrawn"
    [stored] = wallet.consents()
    assert len(stored.receipts) == 2 and stored.withdrawal is not None


# -- reject paths --------------------------------------------------------------------------------


def test_replayed_grant_is_rejected(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    request = _review(service, wallet, service.data_users[0])
    signed = wallet.grant_consent(request, now=_now())
    assert _relay(service, wallet, signed).status_code == 201
    replay = _relay(service, wallet, signed)
    assert replay.status_code == 409, replay.text
    assert replay.json()["code"] == "consent_replayed"


def test_grant_for_another_data_user_is_useless_to_a_third(
    consent_service: ConsentService,
) -> None:
    service = consent_service
    owner, third = service.data_users
    _, consent_id = _grant(service, service.wallet(), owner)
    assert _denied(service, third, consent_id, "recruitment") == "not_grantee"
    read = service.client.get(f"/v1/consents/{consent_id}", headers=service.org_headers(third))
    assert read.status_code == 404 and read.json()["code"] == "consent_not_found"


def test_not_yet_valid_consent_is_denied(consent_service: ConsentService) -> None:
    service = consent_service
    start = _now() + 7 * 24 * 3600
    _, consent_id = _grant(service, service.wallet(), service.data_users[0], not_before=start)
    assert _denied(service, service.data_users[0], consent_id, "recruitment") == "not_yet_valid"


def test_expired_consent_is_denied(consent_service: ConsentService) -> None:
    service = consent_service
    data_user = service.data_users[0]
    _, consent_id = _grant(service, service.wallet(), data_user, not_after=_now() + 3600)
    assert service.check(data_user, consent_id).json()["allowed"] is True
    headers = service.org_headers(data_user)
    with _clock(service, _now() + 2 * 3600):
        response = service.client.post(
            "/v1/consents/check",
            json={"consent_id": consent_id, "purpose": "recruitment"},
            headers=headers,
        )
    assert response.json()["allowed"] is False and response.json()["reason"] == "expired"


def test_forged_signature_is_rejected(consent_service: ConsentService) -> None:
    service = consent_service
    victim, forger = service.wallet(), service.wallet()
    request = _review(service, victim, service.data_users[0])
    genuine = victim.grant_consent(request, now=_now())
    forger_key = forger._holder_key.private_bytes()  # its wallet refuses: not its subject
    forged_by_other = sign_grant(request, private_key=forger_key, now=_now())
    forged = replace(genuine, signature=forged_by_other.signature)
    response = _relay(service, victim, forged)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "consent_signature_invalid"
    flipped = replace(genuine, signature=genuine.signature[:-2] + b"\x00" + genuine.signature[-1:])
    response = _relay(service, victim, flipped)
    assert response.status_code == 400
    assert response.json()["code"] == "consent_signature_invalid"


def test_grant_relayed_by_another_cardholder_is_refused(consent_service: ConsentService) -> None:
    service = consent_service
    holder, other = service.wallet(), service.wallet()
    request = _review(service, holder, service.data_users[0])
    signed = holder.grant_consent(request, now=_now())
    response = _relay(service, other, signed)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "consent_holder_mismatch"


def test_grant_beyond_the_request_is_refused(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    request = _review(service, wallet, service.data_users[0])
    wider = replace(request, purposes=(*request.purposes, Purpose.JOB_MATCHING))
    holder_key = wallet._holder_key.private_bytes()  # the wallet would never sign this itself
    signed = sign_grant(wider, private_key=holder_key, now=_now())
    response = _relay(service, wallet, signed)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "consent_grant_invalid"


def test_grant_for_expired_request_is_refused(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    request = _review(service, wallet, service.data_users[0], lifetime_seconds=60)
    signed = wallet.grant_consent(request, now=_now())
    headers = service.login(wallet)
    with _clock(service, _now() + 3600):
        response = service.client.post("/v1/consents", json=signed.to_json(), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "consent_request_expired"


def test_purpose_outside_the_grant_is_denied(consent_service: ConsentService) -> None:
    service = consent_service
    data_user = service.data_users[0]
    _, consent_id = _grant(service, service.wallet(), data_user, purposes=["recruitment"])
    assert service.check(data_user, consent_id, "recruitment").json()["allowed"] is True
    assert _denied(service, data_user, consent_id, "skill-verification") == "purpose_not_granted"
    assert _denied(service, data_user, consent_id, "job-matching") == "purpose_not_granted"
    assert _denied(service, data_user, consent_id, "marketing") == "purpose_not_granted"


def test_unknown_consent_is_denied(consent_service: ConsentService) -> None:
    service = consent_service
    assert _denied(service, service.data_users[0], "0x" + "ab" * 32, "recruitment") == (
        "unknown_consent"
    )


def test_malformed_grant_is_a_bad_request(consent_service: ConsentService) -> None:
    service = consent_service
    response = service.client.post(
        "/v1/consents", json={"grant": {}}, headers=service.login(service.wallet())
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


# -- who sees what -------------------------------------------------------------------------------


def test_data_users_see_only_their_own_consents(consent_service: ConsentService) -> None:
    service = consent_service
    first, second = service.data_users
    _, mine = _grant(service, service.wallet(), first)
    _, theirs = _grant(service, service.wallet(), second)
    listed_first = {
        c["consent_id"]
        for c in service.client.get("/v1/consents", headers=service.org_headers(first)).json()
    }
    listed_second = {
        c["consent_id"]
        for c in service.client.get("/v1/consents", headers=service.org_headers(second)).json()
    }
    assert mine in listed_first and theirs not in listed_first
    assert theirs in listed_second and mine not in listed_second
    own = service.client.get(f"/v1/consents/{mine}", headers=service.org_headers(first))
    assert own.status_code == 200 and own.json()["data_user"] == first


def test_cardholders_see_all_their_own_and_nobody_elses(consent_service: ConsentService) -> None:
    service = consent_service
    alice, bob = service.wallet(), service.wallet()
    first, second = service.data_users
    _, a1 = _grant(service, alice, first)
    _, a2 = _grant(service, alice, second)
    _, b1 = _grant(service, bob, first)
    service.check(first, a1)
    service.check(second, a1)  # a third party trying Alice's consent shows in her log too
    service.check(first, b1)
    alice_headers = service.login(alice)
    consents = service.client.get("/v1/me/consents", headers=alice_headers).json()
    assert {c["consent_id"] for c in consents} == {a1, a2}
    assert all(c["holder"] == alice.address for c in consents)
    assert all(len(c["receipts"]) == 1 for c in consents)
    uses = service.client.get("/v1/me/data-use", headers=alice_headers).json()
    assert [(u["consent_id"], u["data_user"], u["allowed"], u["reason"]) for u in uses] == [
        (a1, first, True, "granted"),
        (a1, second, False, "not_grantee"),
    ]
    bob_view = service.client.get("/v1/me/consents", headers=service.login(bob)).json()
    assert {c["consent_id"] for c in bob_view} == {b1}


def test_tokens_do_not_cross_roles(consent_service: ConsentService) -> None:
    service = consent_service
    org = service.org_headers(service.data_users[0])
    cardholder = service.login(service.wallet())
    assert service.client.get("/v1/me/consents", headers=org).status_code == 401
    response = service.client.post(
        "/v1/consents/check",
        json={"consent_id": "0x" + "00" * 32, "purpose": "recruitment"},
        headers=cardholder,
    )
    assert response.status_code == 401
    assert service.client.get("/v1/me/consents").status_code == 401


def test_only_data_users_ask_for_consent(consent_service: ConsentService) -> None:
    service = consent_service
    others = [k for k in service.keys if k not in service.data_users]
    response = service.client.post(
        "/v1/consent-requests",
        json={
            "purposes": ["recruitment"],
            "data_categories": ["identity"],
            "duration_seconds": 3600,
            "contact": "x@example.cn",
            "subject_id_number": PERSON_ID_NUMBER,
        },
        headers=service.org_headers(others[0]),
    )
    assert response.status_code == 403


def test_request_outside_the_vocabulary_is_refused(consent_service: ConsentService) -> None:
    service = consent_service
    response = service.client.post(
        "/v1/consent-requests",
        json={
            "purposes": ["marketing"],
            "data_categories": ["identity"],
            "duration_seconds": 3600,
            "contact": "x@example.cn",
            "subject_id_number": PERSON_ID_NUMBER,
        },
        headers=service.org_headers(service.data_users[0]),
    )
    assert response.status_code == 400 and response.json()["code"] == "consent_request_invalid"
    body = response.json()
    assert "'marketing'" in body["message"] and "recruitment" in body["message"]
    assert "recruitment" in body["detail"]["allowed_purposes"]
    assert "identity" in body["detail"]["allowed_data_categories"]


# -- the data subject -------------------------------------------------------------------------


def _verifier(service: ConsentService) -> CredentialVerifier:
    runtime: CredentialRuntime = service.client.app.state.credential_runtime  # type: ignore[attr-defined]
    return runtime.verifier


def test_the_subject_grants_with_their_e_card_proof(consent_service: ConsentService) -> None:
    service = consent_service
    data_user, other_tenant = service.data_users
    wallet = service.wallet()
    signed, consent_id = _grant(service, wallet, data_user)
    assert signed.identity_proof is not None
    assert service.check(data_user, consent_id).json()["reason"] == "granted"
    # the receipt carries the proof, and it verifies against the chain as of the grant
    [shown] = [c for c in service.client.get(
        "/v1/consents", headers=service.org_headers(data_user)
    ).json() if c["consent_id"] == consent_id]  # fmt: skip
    assert shown["subject_verified"] is True
    receipt = verify_consent_receipt(
        shown["receipts"][0], trusted_keys=service.trust, card_verifier=_verifier(service)
    )
    assert receipt.consent.identity_proof == signed.identity_proof
    # another tenant sees neither the consent nor the proof
    assert service.client.get(
        f"/v1/consents/{consent_id}", headers=service.org_headers(other_tenant)
    ).status_code == 404  # fmt: skip
    theirs = service.client.get("/v1/consents", headers=service.org_headers(other_tenant))
    assert signed.identity_proof.split("~")[1] not in theirs.text
    assert service.subjects[wallet.address] not in theirs.text
    assert service.check(other_tenant, consent_id).json()["reason"] == "not_grantee"


def test_a_grant_by_another_cardholder_is_a_subject_mismatch(
    consent_service: ConsentService,
) -> None:
    service = consent_service
    data_user = service.data_users[0]
    subject, intruder = service.wallet(), service.wallet()
    created = service.request_consent(data_user, subject)
    # the intruder's wallet refuses the request...
    with pytest.raises(VerificationError, match="this request is about someone else"):
        intruder.review_consent(created["qr"], trusted_keys=service.trust, now=_now())
    # ...so it signs one itself and proves its own identity, through the API
    request = ConsentRequest.from_json(created["request"])
    signed = sign_grant(request, private_key=intruder._holder_key.private_bytes(), now=_now())
    card = intruder.card_token()
    assert card is not None
    with_proof = present_identity_proof(
        card,
        holder_key=intruder.credential_key,
        consent=signed,
        controller=request.controller,
        issued_at=_now(),
    )
    for attempt in (with_proof, None):
        grant = attempt or sign_grant(
            request, private_key=intruder._holder_key.private_bytes(), now=_now()
        )
        response = _relay(service, intruder, grant)
        assert response.status_code == 201, response.text
        assert response.json()["subject_verified"] is False
        checked = service.check(data_user, response.json()["consent_id"]).json()
        assert (checked["allowed"], checked["reason"]) == (False, "subject_mismatch")
        with pytest.raises(VerificationError) as caught:
            verify_consent_receipt(
                response.json()["receipt"],
                trusted_keys=service.trust,
                card_verifier=_verifier(service),
            )
        assert caught.value.check == "subject"


def test_a_request_names_its_subject_by_a_valid_id_number(
    consent_service: ConsentService,
) -> None:
    service = consent_service
    wrong = PERSON_ID_NUMBER[:-1] + "9"
    response = service.client.post(
        "/v1/consent-requests",
        json={
            "purposes": ["recruitment"],
            "data_categories": ["identity"],
            "duration_seconds": 3600,
            "contact": "privacy@data-user.example.cn",
            "subject_id_number": wrong,
        },
        headers=service.org_headers(service.data_users[0]),
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "consent_subject_invalid"
    assert body["message"] == "subject_id_number: idNumber check digit is wrong (ISO 7064 MOD 11-2)"
    assert wrong not in response.text
