"""Whatever arrives from a QR code or the network, parsers raise only `wallet_sdk` errors."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.wallet_sdk.wallets import NOW, REGISTRY
from wallet_sdk.consent import (
    ConsentOpening,
    ConsentRequest,
    Controller,
    GrantTerms,
    SignedConsent,
    SignedWithdrawal,
    sign_grant,
    verify_consent_receipt,
)
from wallet_sdk.errors import WalletError
from wallet_sdk.login import verify_login_response

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "version", "request_id", "controller", "purposes", "data_categories", "duration_seconds",
    "legal_basis", "registry", "created_at", "expires_at", "jurisdiction", "withdrawal_method",
    "grant", "signature", "opening", "salt", "consent_id", "nonce", "holder", "grantee",
    "purpose_hash", "scope_hash", "not_before", "not_after", "request_digest",
]  # fmt: skip
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10)


def _only_wallet_errors(parse: Any, value: Any) -> None:
    try:
        parse(value)
    except WalletError:
        pass


@settings(max_examples=150, deadline=None)
@given(objects)
def test_json_parsers_raise_only_wallet_errors(value: dict[str, Any]) -> None:
    for kind in (ConsentRequest, ConsentOpening, GrantTerms, SignedConsent, SignedWithdrawal):
        _only_wallet_errors(kind.from_json, value)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_-]{0,60}){2}"))
def test_token_verifiers_raise_only_wallet_errors(token: str) -> None:
    _only_wallet_errors(lambda t: verify_login_response(t, audience="a", now=0), token)
    _only_wallet_errors(lambda t: verify_consent_receipt(t, trusted_keys={}), token)


def _valid_signed() -> dict[str, Any]:
    request = ConsentRequest.new(
        controller=Controller(
            ledger_id=secrets.token_bytes(32),
            credit_code="91110000600037341L",
            name="n",
            contact="c",
        ),
        purposes=["recruitment"],
        data_categories=["identity"],
        duration_seconds=3600,
        legal_basis="pipl-art13-consent",
        registry=REGISTRY,
        now=NOW,
    )
    signed = sign_grant(request, private_key=secrets.token_bytes(31) + b"\x01", now=NOW)
    return {"signed": signed.to_json(), "request": request.to_json()}


VALID = _valid_signed()


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["signed", "request"]),
    st.sampled_from(FIELDS),
    st.sampled_from(["grant", "opening", "registry", "controller", None]),
    json_values,
)
def test_one_broken_field_of_a_valid_object(
    which: str, name: str, inner: str | None, value: Any
) -> None:
    data = copy.deepcopy(VALID[which])
    target = data.get(inner) if inner is not None and isinstance(data.get(inner), dict) else data
    target[name] = value
    kind = SignedConsent if which == "signed" else ConsentRequest
    try:
        parsed = kind.from_json(data)
        if isinstance(parsed, SignedConsent):
            parsed.verify()
    except WalletError:
        pass
