"""End to end, against the service as `make run` starts it (a real anvil, the HTTP API, the
``hrss-wallet`` command as a subprocess): the Guangdong card centre, a card issuer, asks for a
one-time activation after its real-name check; the wallet redeems it (``hrss-wallet card
activate``) and keeps its e-card; the e-card verifies with our verifier against the chain and,
for its SD-JWT part, with the reference ``sd-jwt`` package; activating on a new phone replaces
the first card (revoked, reason ``replaced``); a used code, a wrong check digit and a caller
that is not a card issuer are refused; neither the database nor the chain holds the person's
name, ID number or card number in clear."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from jwcrypto import jwk as jc_jwk
from sd_jwt.verifier import SDJWTVerifier

from node_adapter import Chain, Deployment
from tests.fixtures.privacy import assert_no_person_on_chain, cardholder_values
from tests.fixtures.running_service import RunningService, new_wallet
from tests.fixtures.running_service import run_wallet as _run
from wallet_sdk.credentials import (
    SOCIAL_SECURITY_CARD,
    CardStatusReason,
    CredentialVerificationError,
    CredentialVerifier,
    DirectTrustView,
)
from wallet_sdk.jose import Curve, b64url_decode, b64url_encode, read_unverified_header
from wallet_sdk.wallet import Wallet

pytestmark = pytest.mark.anvil

PASSPHRASE = "correct horse battery staple"
CARD = {
    "name": "林秀珍",
    "idNumber": "44010619900307004" + "4",
    "cardNumber": "M44012346",
    "issuingRegion": "440106",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}


@pytest.fixture(scope="module")
def chain(running_service: RunningService) -> Chain:
    return Chain.from_urls([running_service.chain_url])


def _wallet(workdir: Path, name: str) -> list[str]:
    return new_wallet(workdir, name, PASSPHRASE)


def _post(service: RunningService, path: str, body: Any, client_id: str) -> httpx.Response:
    return httpx.post(
        service.base + path, json=body, headers=service.headers(client_id), timeout=60
    )


def _activation(service: RunningService, centre: str, subject: dict[str, str]) -> str:
    response = _post(service, "/v1/cards/activations", subject, centre)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["qr"].startswith("hrss:")
    code: str = answer["activation_code"]
    return code


def test_activation_end_to_end(
    running_service: RunningService,
    chain: Chain,
    tmp_path: Path,
) -> None:
    service = running_service
    province, school = service.client_id("province"), service.client_id("issuer")
    centre = service.client_id("card_issuer")
    # 1. the province allows the e-card type to its card centre, never to a school
    allowed = httpx.put(
        f"{service.base}/v1/credential-types/{SOCIAL_SECURITY_CARD}/issuers/{centre}",
        json={"allowed": True},
        headers=service.headers(province),
        timeout=60,
    )
    assert allowed.status_code == 200, allowed.text
    refused = httpx.put(
        f"{service.base}/v1/credential-types/{SOCIAL_SECURITY_CARD}/issuers/{school}",
        json={"allowed": True},
        headers=service.headers(province),
        timeout=60,
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "card_issuer_required"
    # 2. a school may not ask for an activation; a wrong check digit is refused
    by_school = _post(service, "/v1/cards/activations", CARD, school)
    assert by_school.status_code == 403
    assert by_school.json()["code"] == "card_issuer_required"
    wrong = _post(
        service, "/v1/cards/activations", {**CARD, "idNumber": CARD["idNumber"][:17] + "9"}, centre
    )
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "card_subject_invalid"
    assert wrong.json()["message"] == "idNumber check digit is wrong (ISO 7064 MOD 11-2)"
    # 3. the wallet redeems the code and keeps the e-card
    first_wallet = _wallet(tmp_path, "phone-1")
    code = _activation(service, centre, CARD)
    first_id = _run("card", "activate", code, "--service", service.base, *first_wallet).strip()
    # a used code is refused
    again = _run("card", "activate", code, "--service", service.base, *first_wallet, expect=1)
    assert '"code":"activation_code_used"' in again.replace(" ", "")
    unknown = _run(
        "card", "activate", "ABCDEFGHJKLM", "--service", service.base, *first_wallet, expect=1
    )
    assert '"code":"activation_code_unknown"' in unknown.replace(" ", "")
    wallet = Wallet.open(tmp_path / "phone-1", PASSPHRASE)
    (stored,) = wallet.credentials()
    assert stored.credential_id == first_id and stored.format == "vc+sd-jwt"
    # signed in the service's profile: SM2SM3 under --crypto-profile national
    signing = "SM2SM3" if service.field("crypto profile") == "national" else "EdDSA"
    assert read_unverified_header(stored.token.split("~")[0])["alg"] == signing
    # 4. it verifies with our verifier, against the chain, bound to the wallet's key
    deployment = Deployment.load(service.var / "deployment.json")
    view = DirectTrustView(chain, deployment)
    verifier = CredentialVerifier(view)
    verified = verifier.verify_credential(stored.token).credential
    assert verified is not None
    assert verified.credential_type == SOCIAL_SECURITY_CARD
    first_card = "0x" + verified.credential_id.hex()  # the id on StatusRegistry
    assert dict(verified.subject) == CARD
    assert verified.holder_key is not None
    assert verified.holder_key.thumbprint_b64() == wallet.credential_key.public().thumbprint_b64()
    # every identity claim is a disclosure: none is in the signed JWT itself
    signed_part = stored.token.split("~", 1)[0]
    for value in CARD.values():
        assert value not in _payload_text(signed_part)
    # ... and with the reference sd-jwt package, the issuer key read from the chain (an
    # Ed25519 key, registry code 1; the reference package knows no SM2, so in the national
    # profile the chain shows the SM2 key, code 6, that wallet_sdk verified above)
    registered = view.key(verified.key_id)
    assert registered is not None
    if signing == "SM2SM3":
        assert registered.algorithm == Curve.SM2.registry_code
    else:
        assert registered.algorithm == 1
        issuer_key = jc_jwk.JWK(kty="OKP", crv="Ed25519", x=b64url_encode(registered.public_key))
        reference = SDJWTVerifier(stored.token, lambda iss, header: issuer_key)
        assert reference.get_verified_payload()["credentialSubject"] == CARD
    # 5. a new phone: the second activation replaces the first card
    second_wallet = _wallet(tmp_path, "phone-2")
    output = _run(
        "card", "activate", _activation(service, centre, CARD), "--service", service.base,
        *second_wallet,
    )  # fmt: skip
    second_id, replaced = output.strip().splitlines()
    assert replaced == f"replaced {first_card}" and second_id != first_id
    status = httpx.get(
        f"{service.base}/v1/credentials/{first_card}/status",
        headers=service.headers(centre),
        timeout=60,
    ).json()
    assert (status["status"], status["reason"]) == ("revoked", CardStatusReason.REPLACED)
    with pytest.raises(CredentialVerificationError) as caught:
        verifier.verify_credential(stored.token)
    assert caught.value.check == "status"
    new_card = Wallet.open(tmp_path / "phone-2", PASSPHRASE).credentials()[0].token
    assert verifier.verify_credential(new_card).credential is not None
    # 6. no name, ID number or card number in clear in the database or on chain
    database = b"".join(
        path.read_bytes() for path in service.var.glob("hrss.db*") if path.is_file()
    )
    assert first_card.encode() in database, "the scan does not see the card's row: it is blind"
    for value in (CARD["name"], CARD["idNumber"], CARD["cardNumber"]):
        for form in (value.encode(), value.encode().hex().encode()):
            assert form not in database, f"{value!r} in the database"
    assert_no_person_on_chain(
        chain,
        control=("control-card", verified.credential_id),
        personal=cardholder_values(CARD),
    )


def _payload_text(jwt: str) -> str:
    return b64url_decode(jwt.split(".")[1]).decode()
