"""Factories for the wallet and consent-format tests."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wallet_sdk.consent import ConsentRequest, ConsentSubject, Controller, RegistryDomain
from wallet_sdk.credentials import VC_SD_JWT_TYP, StatusRegistryRef, default_registry, issue_sd_jwt
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.wallet import Wallet

NOW = 1_760_000_000
SERVICE = "https://hrss.example.gov.cn"
REGISTRY = RegistryDomain(chain_id=1337, address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
PASSPHRASE = "correct horse battery staple"
SUBJECT_ID_NUMBER = "11010519491231002X"
"""The cardholder of every `make_wallet` wallet unless told otherwise, and the data subject of
every `make_request` request."""


def card_for(wallet: Wallet, id_number: str = SUBJECT_ID_NUMBER) -> str:
    """An e-card bound to `wallet`'s credential key, from an issuer no chain knows: enough for
    what the wallet checks itself (whose card it holds); a verifier would refuse it."""
    issued = issue_sd_jwt(
        credential_type=default_registry().get("SocialSecurityCard"),
        subject={
            "name": "张三",
            "idNumber": id_number,
            "cardNumber": "A12345678",
            "issuingRegion": "110105",
            "validFrom": "2026-01-01",
            "validUntil": "2036-01-01",
        },
        issuer_id=secrets.token_bytes(32),
        key=Jwk.generate(Curve.ED25519),
        status_registry=StatusRegistryRef(REGISTRY.chain_id, REGISTRY.address),
        issued_at=NOW,
        holder_key=wallet.credential_key.public(),
        disclosable=["name", "idNumber", "cardNumber", "issuingRegion", "validFrom", "validUntil"],
    )
    return issued.token


@pytest.fixture
def service_key() -> Jwk:
    return Jwk.generate(Curve.ED25519)


@pytest.fixture
def trusted(service_key: Jwk) -> dict[str, list[Jwk]]:
    return {SERVICE: [service_key.public()]}


@pytest.fixture
def make_controller() -> Callable[..., Controller]:
    def make(**overrides: Any) -> Controller:
        fields: dict[str, Any] = {
            "ledger_id": secrets.token_bytes(32),
            "credit_code": "91110000600037341L",
            "name": "Example Recruitment Co., Ltd.",
            "contact": "privacy@recruit.example.cn",
        }
        fields.update(overrides)
        return Controller(**fields)

    return make


@pytest.fixture
def make_request(make_controller: Callable[..., Controller]) -> Callable[..., ConsentRequest]:
    def make(**overrides: Any) -> ConsentRequest:
        fields: dict[str, Any] = {
            "controller": make_controller(),
            "purposes": ["recruitment", "skill-verification"],
            "data_categories": ["identity", "skill-certificate"],
            "duration_seconds": 30 * 24 * 3600,
            "legal_basis": "pipl-art13-consent",
            "registry": REGISTRY,
            "now": NOW,
            "notice": "We check your skill certificate for the welder position.",
            "subject_reference": "张三 applicant 2026-117",
            "subject": ConsentSubject.for_id_number(SUBJECT_ID_NUMBER),
        }
        fields.update(overrides)
        return ConsentRequest.new(**fields)

    return make


@pytest.fixture
def make_wallet(tmp_path: Path) -> Callable[..., Wallet]:
    counter = iter(range(1000))

    def make(*, id_number: str | None = SUBJECT_ID_NUMBER, **kwargs: Any) -> Wallet:
        """A wallet holding the e-card of `id_number` (none when None or not `card`)."""
        directory = tmp_path / f"wallet-{next(counter)}"
        card = kwargs.pop("card", True)
        if "holder_private_key" in kwargs:
            wallet = Wallet.import_key(directory, PASSPHRASE, scrypt_n=2**10, **kwargs)
        else:
            wallet = Wallet.create(directory, PASSPHRASE, scrypt_n=2**10)
        if card and id_number is not None:
            give_e_card(wallet, id_number)
        return wallet

    return make


def give_e_card(wallet: Wallet, id_number: str = SUBJECT_ID_NUMBER) -> str:
    """Keep an e-card of `id_number` bound to `wallet`'s credential key, signed by a card
    centre key of no chain (`card_for`); returns it."""
    card = card_for(wallet, id_number)
    wallet.receive_credential(card, format=VC_SD_JWT_TYP, now=NOW)
    return card
