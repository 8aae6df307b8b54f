"""Factories for the consent SDK's tests: a data user, requests about the cardholder
`SUBJECT_ID_NUMBER`, the service's receipt key, receipts, and views of a registry that hold
what the test says (`FakeView`); the identity-proof tests use the credential tests' embedded
chain (`world`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.wallet_sdk.credentials.conftest import world  # noqa: F401  (the e-card tests' chain)
from wallet_sdk.consent import (
    ConsentOnChain,
    ConsentRequest,
    ConsentSubject,
    Controller,
    ReceiptEvent,
    RegistryDomain,
    SignedConsent,
    issue_consent_receipt,
    sign_grant,
)
from wallet_sdk.jose import Curve, Jwk

NOW = 1_760_000_000
SERVICE = "https://hrss.example.gov.cn"
REGISTRY = RegistryDomain(chain_id=1337, address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
SUBJECT_ID_NUMBER = "11010519491231002X"
"""The data subject of every `make_request` request, and the cardholder of every wallet the
wallet tests make unless told otherwise."""
HOLDER_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OTHER_KEY = bytes.fromhex("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f")

MakeRequest = Callable[..., ConsentRequest]


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


def receipt_token(request: ConsentRequest, service_key: Jwk, **kwargs: object) -> str:
    """A receipt of `SERVICE` for a grant of `request` by `HOLDER_KEY` (or `signed`)."""
    signed = kwargs.pop("signed", None) or sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    return issue_consent_receipt(
        event=kwargs.pop("event", ReceiptEvent.GRANT),  # type: ignore[arg-type]
        consent=signed,  # type: ignore[arg-type]
        request=request,
        issuer=SERVICE,
        key=service_key,
        issued_at=NOW,
        transaction_hash="0x" + "ab" * 32,
        block_number=7,
        block_time=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


class FakeView:
    def __init__(self, record: ConsentOnChain | None, chain_id: int = REGISTRY.chain_id) -> None:
        self.record, self.chain = record, chain_id

    def chain_id(self) -> int:
        return self.chain

    def consent_of(self, registry: str, consent_id: bytes) -> ConsentOnChain | None:
        if self.record is None:
            return None
        assert registry == REGISTRY.address
        return self.record


class BrokenView(FakeView):
    def chain_id(self) -> int:
        raise OSError("node down")


def on_chain_record(signed: SignedConsent, **changes: object) -> ConsentOnChain:
    terms = signed.terms
    fields: dict[str, object] = {
        "holder": terms.holder.lower(),
        "grantee": terms.grantee,
        "purpose_hash": terms.purpose_hash,
        "scope_hash": terms.scope_hash,
        "not_before": terms.not_before,
        "not_after": terms.not_after,
        "withdrawn_at": 0,
    }
    fields.update(changes)
    return ConsentOnChain(**fields)  # type: ignore[arg-type]
