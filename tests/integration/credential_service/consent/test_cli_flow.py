"""hrss-wallet against the running service: e-card activation, QR login with the e-card, grant
and withdrawal relayed with ``--service`` (the CLI's HTTP calls are routed into the test
client)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.fixtures.cards import card_subject, citizen_id
from tests.integration.credential_service.consent.harness import ISSUER_URL, ConsentService
from wallet_sdk.cli import main
from wallet_sdk.wallet import Wallet


def test_login_grant_and_withdraw_from_the_command_line(
    consent_service: ConsentService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = consent_service
    data_user = service.data_users[0]

    def request(
        method: str, url: str, *, headers: dict[str, str], timeout: float, **body: Any
    ) -> Any:
        return service.client.request(method, url.removeprefix(ISSUER_URL), headers=headers, **body)

    monkeypatch.setattr("wallet_sdk._wallet_cli.httpx.request", request)
    runner = CliRunner()
    secret = tmp_path / "pass.txt"
    secret.write_text("cli passphrase\n")
    trust = tmp_path / "trust.json"
    trust.write_text(service.client.get("/v1/consents/trust").text)
    wallet = ["--wallet", str(tmp_path / "w"), "--passphrase-file", str(secret)]
    assert runner.invoke(main, ["init", *wallet, "--scrypt-n", "1024"]).exit_code == 0

    challenge = service.client.post("/v1/login/challenges").json()
    login_args = ["login", *wallet, "--trust", str(trust), challenge["qr"], "--service", ISSUER_URL]
    without_card = runner.invoke(main, login_args)
    assert without_card.exit_code == 2
    assert "activate your e-card first: hrss-wallet card activate CODE" in without_card.output
    code = service.cards.activation_code(service.cards.new_person())
    activated = runner.invoke(main, ["card", "activate", code, *wallet, "--service", ISSUER_URL])
    assert activated.exit_code == 0, activated.output
    login = runner.invoke(main, login_args)
    assert login.exit_code == 0, login.output
    token = json.loads(login.output)["access_token"]

    person = citizen_id(900)
    service.cards.activate(Wallet.open(tmp_path / "w", "cli passphrase"), card_subject(person))
    qr = service.request_consent(data_user, person)["qr"]
    grant = runner.invoke(
        main,
        [
            *("consent", "grant", *wallet, "--trust", str(trust), qr),
            *("--service", ISSUER_URL, "--token", token),
        ],
    )
    assert grant.exit_code == 0, grant.output
    consent_id = json.loads(grant.output)["consent_id"]
    assert service.check(data_user, consent_id).json()["allowed"] is True

    withdraw = runner.invoke(
        main,
        ["consent", "withdraw", *wallet, consent_id, "--service", ISSUER_URL, "--token", token],
    )
    assert withdraw.exit_code == 0, withdraw.output
    assert service.check(data_user, consent_id).json()["reason"] == "withdrawn"

    replay = runner.invoke(
        main,
        ["login", *wallet, "--trust", str(trust), challenge["qr"], "--service", ISSUER_URL],
    )
    assert replay.exit_code == 1 and "login_challenge_replayed" in replay.output
