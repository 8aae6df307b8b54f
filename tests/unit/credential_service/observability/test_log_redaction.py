"""No secret or personal datum reaches a log line: a realistic scenario (client assertion,
access token, SD-JWT credential, private JWK, keystore passphrase, ID number, phone number)
logged every way the code base logs, captured and searched."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid

import jwt
import pytest

from credential_service.observability import redact, register_secret
from credential_service.observability.logs import request_id_var
from wallet_sdk import Curve, Jwk, sign_compact

ID_NUMBER = "11010519491231002X"
ID_NUMBER_DIGITS = "440305199001011234"
PHONE = "13812345678"
PHONE_INTL = "+86 139-1234-5678"
PASSPHRASE = "correct horse battery staple 42"


def _secrets() -> dict[str, str]:
    client_key = Jwk.generate(Curve.ED25519, kid="client-1")
    ec_key = Jwk.generate(Curve.P256, kid="issuer-1")
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": "c",
            "sub": "c",
            "aud": "http://x/v1/auth/token",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        },
        client_key.private_key,
        algorithm="EdDSA",
    )
    access_token = sign_compact(json.dumps({"sub": "91110000MA01ABCD2X"}).encode(), ec_key)
    disclosure = "WyJzYWx0IiwgImlkX251bWJlciIsICIxMTAxMDUxOTQ5MTIzMTAwMlgiXQ"
    sd_jwt = f"{access_token}~{disclosure}~"
    private = ec_key.private_jwk()
    return {
        "assertion": assertion,
        "access_token": access_token,
        "sd_jwt": sd_jwt,
        "disclosure": disclosure,
        "d": private["d"],
        "ed_d": client_key.private_jwk()["d"],
        "passphrase": PASSPHRASE,
        "id": ID_NUMBER,
        "id_digits": ID_NUMBER_DIGITS,
        "phone": PHONE,
    }


def test_a_realistic_scenario_leaks_nothing(captured: io.StringIO) -> None:
    values = _secrets()
    register_secret(PASSPHRASE)
    log = logging.getLogger("credential_service.scenario")
    token = request_id_var.set("req-123")
    try:
        log.info(
            "token request client_assertion=%s grant_type=client_credentials", values["assertion"]
        )
        log.info(
            "form body: grant_type=client_credentials&client_assertion=%s&scope=a",
            values["assertion"],
        )
        log.debug("Authorization: Bearer %s", values["access_token"])
        log.info("issued %s", values["sd_jwt"])
        log.info(
            "issue request %s",
            json.dumps(
                {
                    "credentialSubject": {
                        "name": "张三",
                        "idNumber": ID_NUMBER,
                        "phone": PHONE,
                        "mobile": PHONE_INTL,
                        "other_id": ID_NUMBER_DIGITS,
                    }
                }
            ),
        )
        log.warning("unlocking keystore with passphrase %s failed", PASSPHRASE)
        log.info("keystore settings %r", {"keystore_passphrase": PASSPHRASE, "path": "var/x"})
        log.info("loaded key %s", Jwk.from_jwk(_ec_private(values)).private_jwk())
        log.info(
            "client key %s",
            json.dumps({"kty": "OKP", "crv": "Ed25519", "d": values["ed_d"], "x": "abc"}),
        )
        log.info(
            "consent for cardholder",
            extra={"id_number": ID_NUMBER, "phone": PHONE, "token": values["access_token"]},
        )
        try:
            raise ValueError(f"cannot parse presentation {values['sd_jwt']} of {ID_NUMBER}")
        except ValueError:
            log.exception("verification crashed for %s", PHONE)
        log.info("%s", {"password": "hunter2-hunter2", "secret": "s3cr3t-value"})
    finally:
        request_id_var.reset(token)

    output = captured.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 12
    assert all(line["request_id"] == "req-123" for line in lines)
    for name, value in values.items():
        if name == "disclosure":
            continue  # only ever logged inside the SD-JWT, which is masked whole
        assert value not in output, f"{name} leaked"
    for leaked in ("hunter2-hunter2", "s3cr3t-value", "139-1234-5678", "12345678"):
        assert leaked not in output
    assert "[REDACTED:jwt]" in output
    assert "[REDACTED:id_number]" in output
    assert "[REDACTED:phone]" in output


def _ec_private(values: dict[str, str]) -> dict[str, str]:
    key = Jwk.generate(Curve.P256)
    private = key.private_jwk()
    values["d2"] = private["d"]
    return private


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("anchored batch 0x" + "1234567890" * 6 + "abcd", "0x" + "1234567890" * 6 + "abcd"),
        ("credit code 91110000MA01ABCD2X", "91110000MA01ABCD2X"),
        ("block 12345678901 confirmed", "12345678901"),  # 11 digits, not a mobile (starts 12)
        ("tx 0xabcdef13812345678abcdef", "0xabcdef13812345678abcdef"),
        ("token_type=Bearer", "token_type="),
    ],
)
def test_ordinary_identifiers_survive(text: str, kept: str) -> None:
    assert kept in redact(text)
