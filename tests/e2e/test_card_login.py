"""End to end, against the service as `make run` starts it (a real anvil, the HTTP API, the
``hrss-wallet`` command as a subprocess): QR login with the e-card (电子社保卡扫码登录).

A wallet without an e-card is told to activate one and gets no token; with its e-card active it
logs in, and the token's subject is a pairwise pseudonym; two relying services see two other
pseudonyms; reported lost (挂失) the card logs in no more until it is found; on a new phone the
old card is replaced and refused, while the new one logs in as the same pseudonym. Then the
chain is scanned for the person's name, ID number and card number in any form: none may be
there."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from node_adapter import Chain
from tests.fixtures.cards import CardCentre
from tests.fixtures.running_service import RunningService, run_wallet
from wallet_sdk.credentials import CardStatusReason
from wallet_sdk.jose import Jwk, b64url_decode
from wallet_sdk.privacy import PersonalValue, scan_chain_for
from wallet_sdk.wallet import Wallet

pytestmark = pytest.mark.anvil

WALLET = "urn:hrss:wallet"
PASSPHRASE = "correct horse battery staple"
PERSON = {
    "name": "黄美玲",
    "idNumber": "44010619880521004" + "0",
    "cardNumber": "M44055501",
    "issuingRegion": "440106",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}


@pytest.fixture(scope="module")
def api(running_service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_service.base, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def centre(running_service: RunningService, api: httpx.Client) -> CardCentre:
    """The Guangdong card centre, allowed the e-card type by its province."""
    return CardCentre(
        client=api,
        headers=running_service.headers,
        centre=running_service.client_id("card_issuer"),
        province=running_service.client_id("province"),
    )


class Phone:
    """A wallet on a phone, driven through ``hrss-wallet`` as its owner would."""

    def __init__(self, service: RunningService, workdir: Path, name: str) -> None:
        self.service = service
        passphrase = workdir / f"{name}-passphrase"
        passphrase.write_text(PASSPHRASE + "\n")
        self.directory = workdir / name
        self.args = ["--wallet", str(self.directory), "--passphrase-file", str(passphrase)]
        self.trust = workdir / "trust.json"
        if not self.trust.exists():  # what `curl $SERVICE/v1/consents/trust > trust.json` does
            self.trust.write_bytes(httpx.get(f"{service.base}/v1/consents/trust").content)
        self.run("init", *self.args, "--scrypt-n", "1024")

    def run(self, *args: str, expect: int = 0) -> str:
        return run_wallet(*args, expect=expect)

    def activate(self, code: str) -> str:
        return self.run("card", "activate", code, "--service", self.service.base, *self.args)

    def login(
        self, api: httpx.Client, *, relying: dict[str, str] | None = None, expect: int = 0
    ) -> Any:
        """Scan a login QR the service shows (for itself, or for a relying organisation whose
        bearer header is `relying`) and answer it: the token, or the error text."""
        challenge = api.post("/v1/login/challenges", headers=relying or {})
        assert challenge.status_code == 201, challenge.text
        output = self.run(
            "login", *self.args, "--trust", str(self.trust), challenge.json()["qr"],
            "--service", self.service.base, expect=expect,
        )  # fmt: skip
        return json.loads(output) if expect == 0 else output

    def sdk_login(self, api: httpx.Client, *, relying: dict[str, str] | None = None) -> Any:
        """The same login through the wallet SDK in this process (what the app does; the
        command costs a Python start-up per call)."""
        challenge = api.post("/v1/login/challenges", headers=relying or {})
        assert challenge.status_code == 201, challenge.text
        trusted = {
            issuer: [Jwk.from_jwk(key) for key in keys]
            for issuer, keys in json.loads(self.trust.read_text()).items()
        }
        answer = Wallet.open(self.directory, PASSPHRASE).answer_login(
            challenge.json()["qr"], trusted_keys=trusted, audience=WALLET, now=int(time.time())
        )
        issued = api.post("/v1/login/responses", json={"response": answer})
        assert issued.status_code == 200, issued.text
        return issued.json()


def _refused(output: str, code: str) -> None:
    assert json.loads(output.strip().splitlines()[-1])["code"] == code, output


def test_qr_login_with_the_e_card(
    running_service: RunningService,
    api: httpx.Client,
    centre: CardCentre,
    tmp_path: Path,
) -> None:
    service = running_service
    first = Phone(service, tmp_path, "phone-1")
    # 1. no e-card yet: the wallet says what to do, and asks the service for nothing
    told = first.login(api, expect=2)
    assert "activate your e-card first: hrss-wallet card activate CODE" in told
    # 2. the card centre activates the person's e-card on this phone; the login succeeds
    activated = first.activate(centre.activation_code(PERSON))
    assert len(activated.split()) == 1  # the first card: nothing replaced
    token = first.login(api)
    subject = token["subject"]
    assert re.fullmatch(r"[0-9a-f]{64}", subject)
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["sub"] == subject and claims["holder"] == token["holder"]
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.get("/v1/me/consents", headers=bearer).status_code == 200
    shown = json.dumps(token, ensure_ascii=False)
    assert all(PERSON[name] not in shown for name in ("name", "idNumber", "cardNumber"))
    # 3. two relying services see two other pseudonyms, each its own, and no holder address
    data_user = service.headers(service.client_id("data_user"))
    employer = service.headers(service.client_id("employer"))
    at_data_user = first.login(api, relying=data_user)
    at_employer = first.sdk_login(api, relying=employer)
    assert len({subject, at_data_user["subject"], at_employer["subject"]}) == 3
    assert first.sdk_login(api, relying=data_user)["subject"] == at_data_user["subject"]
    assert at_data_user["holder"] is None
    # 4. reported lost (挂失): no token; found again: it logs in again
    card = _card_id(first)
    _set_status(api, centre, card, "suspended", CardStatusReason.LOST)
    _refused(first.login(api, expect=1), "card_not_active")
    _set_status(api, centre, card, "active", CardStatusReason.NONE)
    assert first.sdk_login(api)["subject"] == subject
    # 5. a new phone: the new card replaces the old; the old phone is refused, the new phone
    # is the same person to the service and to each relying service
    second = Phone(service, tmp_path, "phone-2")
    replaced = second.activate(centre.activation_code(PERSON)).split()
    assert replaced[1:] == ["replaced", card]
    _refused(first.login(api, expect=1), "card_not_active")
    again = second.login(api)
    assert again["subject"] == subject and again["holder"] != token["holder"]
    assert second.sdk_login(api, relying=data_user)["subject"] == at_data_user["subject"]
    # 6. nothing on chain names the person, in any form
    controls = [PersonalValue.binary("control-card", bytes.fromhex(card[2:]))]
    personal = [
        PersonalValue.person_name(PERSON["name"]),
        PersonalValue.id_number(PERSON["idNumber"]),
        PersonalValue.text("card-number", PERSON["cardNumber"]),
    ]
    report = scan_chain_for([*controls, *personal], Chain.from_urls([service.chain_url]))
    assert report.hits_for("control-card"), "the scan does not see the card's id: it is blind"
    leaked = [hit for hit in report.hits if hit.label != "control-card"]
    assert not leaked, "personal data on chain:\n" + "\n".join(h.describe() for h in leaked[:3])


def _card_id(phone: Phone) -> str:
    """The id on ``StatusRegistry`` of the e-card in `phone`'s wallet."""
    token = Wallet.open(phone.directory, PASSPHRASE).social_security_card().token
    payload = json.loads(b64url_decode(token.split("~")[0].split(".")[1]))
    card: str = payload["id"].removeprefix("urn:hrss:credential:")
    return card


def _set_status(api: httpx.Client, centre: CardCentre, card: str, status: str, reason: int) -> None:
    response = api.post(
        f"/v1/credentials/{card}/status",
        json={"status": status, "reason": int(reason)},
        headers=centre.headers(centre.centre),
    )
    assert response.status_code == 200, response.text
