"""End to end, against the service as `make run` starts it (a real anvil, the HTTP API, the
``hrss-wallet`` command as a subprocess): credentials to the right person (issue #12 item 8).

A school that requires the e-card gives the citizen a challenge; the wallet answers it with its
e-card (``hrss-wallet credential request``), the school sends that proof with its issuance
request and the certificate is bound to the card's key; a proof from the card of someone else
is refused (``card_subject_mismatch``). A verifier asks, in one request, for the certificate
and the e-card of the same holder: the wallet shows level and occupation plus the name only
(``hrss-wallet credential present --with-card``), the service verifies both and answers "is
the person named X"; the e-card of another holder is refused (``same_holder``). Nothing on
chain names either person."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from node_adapter import Chain
from tests.fixtures.privacy import assert_no_person_on_chain, cardholder_values
from tests.fixtures.running_service import RunningService, new_wallet
from tests.fixtures.running_service import run_wallet as _run
from wallet_sdk.credentials import SOCIAL_SECURITY_CARD, credential_id_from_uri
from wallet_sdk.credentials.card_proof import present_with_card
from wallet_sdk.jose import b64url_decode
from wallet_sdk.wallet import Wallet

pytestmark = pytest.mark.anvil

PASSPHRASE = "correct horse battery staple"
PERSON = {"name": "黄蓉", "idNumber": "440106199205150122"}
OTHER = {"name": "穆念慈", "idNumber": "44030519880512004X"}
CARDS = {
    "phone-a": {**PERSON, "cardNumber": "M44077001"},
    "phone-b": {**OTHER, "cardNumber": "M44077002"},
}
SKILL = {
    **PERSON,
    "occupationCode": "4-01-02-01",
    "occupationName": "电工",
    "level": 2,
    "certificateNumber": "S440100202600901",
    "assessedOn": "2026-06-01",
}
NONCE, AUDIENCE = "hiring-nonce-31", "https://hr.example/hiring"


def _call(service: RunningService, method: str, path: str, client_id: str, **kw: Any) -> Any:
    return httpx.request(
        method, service.base + path, headers=service.headers(client_id), timeout=60, **kw
    )


def _wallet_with_card(service: RunningService, workdir: Path, name: str, centre: str) -> list[str]:
    """A wallet (``hrss-wallet init``) holding its e-card (``hrss-wallet card activate``)."""
    args = new_wallet(workdir, name, PASSPHRASE)
    card = {
        **CARDS[name],
        "issuingRegion": "440106",
        "validFrom": "2026-01-01",
        "validUntil": "2036-01-01",
    }
    activation = _call(service, "POST", "/v1/cards/activations", centre, json=card)
    assert activation.status_code == 201, activation.text
    _run("card", "activate", activation.json()["activation_code"], "--service", service.base, *args)
    return args


def _issue_with_card(service: RunningService, school: str, proof: dict[str, str]) -> Any:
    request = {
        "type": "VocationalSkillCertificate",
        "format": "vc+sd-jwt",
        "subject": SKILL,
        "disclosable": list(SKILL),
        "card_proof": proof,
        "require_card": True,
    }
    return _call(service, "POST", "/v1/credentials", school, json={"credentials": [request]})


def test_credentials_to_the_right_person(
    running_service: RunningService,
    tmp_path: Path,
) -> None:
    service = running_service
    province, school = service.client_id("province"), service.client_id("issuer")
    centre, court = service.client_id("card_issuer"), service.client_id("court")
    for term, issuer in ((SOCIAL_SECURITY_CARD, centre), ("VocationalSkillCertificate", school)):
        path = f"/v1/credential-types/{term}/issuers/{issuer}"
        allowed = _call(service, "PUT", path, province, json={"allowed": True})
        assert allowed.status_code == 200, allowed.text
    phone_a = _wallet_with_card(service, tmp_path, "phone-a", centre)
    phone_b = _wallet_with_card(service, tmp_path, "phone-b", centre)

    # 1. the school requires the e-card: its challenge, answered by the citizen's wallet
    profile = _call(service, "GET", f"/v1/registry/organisations/{school}", school)
    entity_id = profile.json()["entity_id"]
    challenge = secrets.token_urlsafe(16)
    request = ["credential", "request", "--issuer", entity_id, "--challenge", challenge]
    proof = json.loads(_run(*request, *phone_a))
    assert proof["challenge"] == challenge
    issued = _issue_with_card(service, school, proof)
    assert issued.status_code == 201, issued.text
    token = issued.json()["credentials"][0]["credential"]
    token_file = tmp_path / "skill.sd-jwt"
    token_file.write_text(token)
    # the wallet keeps it: it is bound to this wallet's key, which is the card's
    credential_id = _run("credential", "receive", str(token_file), *phone_a).strip()
    # another person's wallet cannot take it
    refused = _run("credential", "receive", str(token_file), *phone_b, expect=2)
    assert "bound to another holder key" in refused

    # 2. the card of someone else: their own valid proof, but not the subject's card
    others = json.loads(_run(*request[:-1], secrets.token_urlsafe(16), *phone_b))
    mismatch = _issue_with_card(service, school, others)
    assert mismatch.status_code == 403, mismatch.text
    assert mismatch.json()["code"] == "card_subject_mismatch"
    assert mismatch.json()["detail"] == {"index": 0, "claims": ["name", "idNumber"]}

    # 3. the verifier asks for level and occupation plus "is the person named 黄蓉"
    presentation = _run(
        "credential", "present", credential_id, "--with-card",
        "--disclose", "level,occupationName", "--card-disclose", "name",
        "--nonce", NONCE, "--audience", AUDIENCE, *phone_a,
    ).strip()  # fmt: skip
    assert PERSON["idNumber"] not in _everything_shown(presentation)
    body = {
        "presentation": presentation,
        "nonce": NONCE,
        "audience": AUDIENCE,
        "with_card": {"require": ["level", "occupationName"], "expected_name": "黄蓉"},
    }
    report = _call(service, "POST", "/v1/presentations/verify", court, json=body).json()
    assert report["verified"] is True, report
    subjects = [c["credential"]["subject"] for c in report["credentials"]]
    assert subjects == [{"level": 2, "occupationName": "电工"}, {"name": "黄蓉"}]
    assert report["card"]["name_matches"] is True
    assert report["card"]["card"]["issuer"]["credit_code"] == centre
    wallet_a = Wallet.open(tmp_path / "phone-a", PASSPHRASE)
    assert report["card"]["holder"] == wallet_a.credential_key.public().thumbprint_b64()
    not_her = {**body, "with_card": {"expected_name": "穆念慈"}}
    answer = _call(service, "POST", "/v1/presentations/verify", court, json=not_her).json()
    assert (answer["verified"], answer["card"]["name_matches"]) == (True, False)

    # 4. the certificate with the e-card of another holder (signed with A's key) is refused
    card_b = Wallet.open(tmp_path / "phone-b", PASSPHRASE).social_security_card().token
    borrowed = present_with_card(
        token,
        card_b,
        holder_key=wallet_a.credential_key,
        disclose=["level"],
        card_disclose=["name"],
        nonce=NONCE,
        audience=AUDIENCE,
        issued_at=max(int(time.time()), _chain_now(service)),
    )
    body = {"presentation": borrowed, "nonce": NONCE, "audience": AUDIENCE, "with_card": {}}
    report = _call(service, "POST", "/v1/presentations/verify", court, json=body).json()
    assert report["verified"] is False
    assert report["verdict"] == "not verified: same_holder failed"
    assert report["card"]["check"] == "same_holder"

    # 5. nothing on chain names either person, in any form
    verified_id = credential_id_from_uri(_payload(token.split("~")[0])["id"])
    assert_no_person_on_chain(
        Chain.from_urls([service.chain_url]),
        control=("control-credential", verified_id),
        personal=[value for card in CARDS.values() for value in cardholder_values(card)],
    )


def _chain_now(service: RunningService) -> int:
    return Chain.from_urls([service.chain_url]).block().timestamp


def _payload(jwt: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(b64url_decode(jwt.split(".")[1]))
    return payload


def _everything_shown(vp_jwt: str) -> str:
    """The vp+jwt's payload and every disclosure of the SD-JWTs it envelopes, decoded."""
    shown = [json.dumps(_payload(vp_jwt), ensure_ascii=False)]
    for entry in _payload(vp_jwt)["verifiableCredential"]:
        inner = entry["id"].split(",", 1)[1]
        for disclosure in inner.split("~")[1:]:
            if disclosure:
                shown.append(b64url_decode(disclosure).decode())
    return "\n".join(shown)
