"""hrss-wallet cardholder commands: init, whoami, consent review/grant/list/withdraw, login."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from tests.unit.wallet_sdk.wallets import NOW, SERVICE, card_for, give_e_card
from wallet_sdk.cli import main
from wallet_sdk.consent import ConsentRequest, SignedConsent, encode_consent_request_qr
from wallet_sdk.jose import Jwk
from wallet_sdk.qr import QrPayloadType, encode_qr_payload
from wallet_sdk.wallet import Wallet


def _setup(tmp_path: Path, service_key: Jwk) -> tuple[list[str], Path]:
    secret = tmp_path / "pass.txt"
    secret.write_text("s3cret passphrase\n")
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({SERVICE: [service_key.public().public_jwk()]}))
    wallet = ["--wallet", str(tmp_path / "w"), "--passphrase-file", str(secret)]
    return wallet, trust


def test_consent_flow_on_the_command_line(
    tmp_path: Path, service_key: Jwk, make_request: Callable[..., ConsentRequest]
) -> None:
    runner = CliRunner()
    wallet, trust = _setup(tmp_path, service_key)
    created = runner.invoke(main, ["init", *wallet, "--scrypt-n", "1024"])
    assert created.exit_code == 0, created.output
    identity = json.loads(created.output)
    shown = runner.invoke(main, ["whoami", *wallet])
    assert json.loads(shown.output) == identity

    qr = encode_consent_request_qr(make_request(), issuer=SERVICE, key=service_key)
    review_args = ["consent", "review", *wallet, "--trust", str(trust), qr, "--now", str(NOW)]
    grant_args = ["consent", "grant", *wallet, "--trust", str(trust), qr, "--now", str(NOW)]
    # without an e-card, and with the e-card of someone else, the wallet signs nothing
    for args in (review_args, grant_args):
        refused = runner.invoke(main, args)
        assert refused.exit_code == 1 and "this wallet holds no e-card" in refused.output
    held = Wallet.open(tmp_path / "w", "s3cret passphrase")
    other = held.receive_credential(card_for(held, "110101199003074370"), now=NOW)
    for args in (review_args, grant_args):
        refused = runner.invoke(main, args)
        assert refused.exit_code == 1, refused.output
        assert "error: subject: this request is about someone else" in refused.output
    assert runner.invoke(main, ["consent", "list", *wallet]).output == ""
    held.remove_credential(other.credential_id)
    held.receive_credential(card_for(held), now=NOW)

    review = runner.invoke(main, review_args)
    assert review.exit_code == 0, review.output
    assert "recruitment" in review.output and "Example Recruitment" in review.output

    grant = runner.invoke(
        main,
        [
            "consent",
            "grant",
            *wallet,
            "--trust",
            str(trust),
            qr,
            "--now",
            str(NOW),
            "--purpose",
            "recruitment",
            "--days",
            "7",
        ],
    )
    assert grant.exit_code == 0, grant.output
    signed = SignedConsent.from_json(json.loads(grant.output))
    signed.verify()
    assert signed.terms.holder == identity["address"]
    assert signed.terms.not_after - signed.terms.not_before == 7 * 86400

    listing = runner.invoke(main, ["consent", "list", *wallet])
    assert f"0x{signed.consent_id.hex()}\tgranted" in listing.output
    withdrawn = runner.invoke(
        main, ["consent", "withdraw", *wallet, f"0x{signed.consent_id.hex()}"]
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "withdrawn" in runner.invoke(main, ["consent", "list", *wallet]).output


def test_forged_request_exits_1(
    tmp_path: Path, service_key: Jwk, make_request: Callable[..., ConsentRequest]
) -> None:
    from wallet_sdk.jose import Curve

    runner = CliRunner()
    wallet, trust = _setup(tmp_path, service_key)
    runner.invoke(main, ["init", *wallet, "--scrypt-n", "1024"])
    forger = Jwk.generate(Curve.ED25519).with_kid(service_key.thumbprint_b64())
    qr = encode_consent_request_qr(make_request(), issuer=SERVICE, key=forger)
    result = runner.invoke(
        main, ["consent", "grant", *wallet, "--trust", str(trust), qr, "--now", str(NOW)]
    )
    assert result.exit_code == 1
    assert "signature" in result.output


def test_login_answers_with_the_e_card_or_asks_to_activate_it(
    tmp_path: Path, service_key: Jwk
) -> None:
    from wallet_sdk.login import verify_login_response

    runner = CliRunner()
    wallet, trust = _setup(tmp_path, service_key)
    identity = json.loads(runner.invoke(main, ["init", *wallet, "--scrypt-n", "1024"]).output)
    qr = encode_qr_payload(
        type=QrPayloadType.LOGIN_CHALLENGE,
        issuer=SERVICE,
        audience="urn:hrss:wallet",
        issued_at=NOW,
        expires_at=NOW + 60,
        body={},
        key=service_key,
    )
    login = ["login", *wallet, "--trust", str(trust), qr, "--now", str(NOW)]
    refused = runner.invoke(main, login)
    assert refused.exit_code == 2
    assert "activate your e-card first: hrss-wallet card activate CODE" in refused.output
    give_e_card(Wallet.open(tmp_path / "w", "s3cret passphrase"))
    result = runner.invoke(main, login)
    assert result.exit_code == 0, result.output
    answer = verify_login_response(result.output.strip(), audience=SERVICE, now=NOW)
    assert answer.address == identity["address"]


def test_sign_digest_command(tmp_path: Path, service_key: Jwk) -> None:
    import hashlib

    from wallet_sdk.wallet import verify_digest_signature

    runner = CliRunner()
    wallet, _ = _setup(tmp_path, service_key)
    runner.invoke(main, ["init", *wallet, "--scrypt-n", "1024"])
    document = tmp_path / "contract.pdf"
    document.write_bytes(b"%PDF labour contract")
    result = runner.invoke(main, ["sign-digest", *wallet, str(document)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    digest = hashlib.sha256(document.read_bytes()).digest()
    verify_digest_signature(out["jws"], digest=digest, signer=out["signer"])
