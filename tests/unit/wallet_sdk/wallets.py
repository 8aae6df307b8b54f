"""Factories for the wallet tests; the consent requests its wallets answer come from the
consent tests' factories (`tests.unit.wallet_sdk.consent.conftest`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.wallet_sdk.consent.conftest import (  # noqa: F401  (fixtures)
    NOW,
    REGISTRY,
    SERVICE,
    SUBJECT_ID_NUMBER,
    make_controller,
    make_request,
    service_key,
    trusted,
)
from wallet_sdk.credentials import VC_SD_JWT_TYP, StatusRegistryRef, default_registry, issue_sd_jwt
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.wallet import Wallet

PASSPHRASE = "correct horse battery staple"


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
