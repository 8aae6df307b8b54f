"""The cardholder wallet: keys and identifiers, sealed store, consents, credentials, digests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from eth_account import Account

from tests.unit.wallet_sdk.wallets import NOW, PASSPHRASE, SERVICE
from wallet_sdk.consent import ConsentRequest, ReceiptEvent, issue_consent_receipt
from wallet_sdk.errors import FormatError, KeystoreError, VerificationError
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.wallet import Wallet, did_jwk, verify_digest_signature

MakeWallet = Callable[..., Wallet]
MakeRequest = Callable[..., ConsentRequest]
HOLDER_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def test_create_and_open(make_wallet: MakeWallet) -> None:
    wallet = make_wallet()
    reopened = Wallet.open(wallet.directory, PASSPHRASE)
    assert reopened.address == wallet.address
    assert reopened.did == wallet.did
    assert wallet.did.startswith("did:jwk:")
    assert wallet.address.startswith("0x") and len(wallet.address) == 42


def test_identifiers_are_unlinkable(make_wallet: MakeWallet) -> None:
    wallet = make_wallet()
    assert wallet.address.lower()[2:] not in wallet.did.lower()
    assert did_jwk(wallet.credential_key) == wallet.did


def test_open_with_wrong_passphrase_fails(make_wallet: MakeWallet) -> None:
    wallet = make_wallet()
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        Wallet.open(wallet.directory, "not the passphrase")


def test_create_refuses_existing_wallet(make_wallet: MakeWallet) -> None:
    wallet = make_wallet()
    with pytest.raises(KeystoreError, match="already exists"):
        Wallet.create(wallet.directory, PASSPHRASE, scrypt_n=2**10)


def test_import_keeps_the_holder_address(make_wallet: MakeWallet) -> None:
    wallet = make_wallet(holder_private_key=HOLDER_KEY)
    assert wallet.address == Account.from_key(HOLDER_KEY).address


def test_import_rejects_invalid_key(make_wallet: MakeWallet) -> None:
    with pytest.raises(FormatError):
        make_wallet(holder_private_key=b"\x00" * 32)


def test_consent_grant_is_remembered_and_sealed(
    make_wallet: MakeWallet, make_request: MakeRequest
) -> None:
    wallet = make_wallet()
    request = make_request()
    signed = wallet.grant_consent(request, now=NOW, purposes=["recruitment"])
    assert signed.terms.holder == wallet.address
    signed.verify()
    reopened = Wallet.open(wallet.directory, PASSPHRASE)
    [stored] = reopened.consents()
    assert stored.consent == signed and stored.request == request and stored.withdrawal is None
    on_disk = (wallet.directory / "store.json").read_bytes()
    assert "张三".encode() not in on_disk and b"recruitment" not in on_disk
    assert signed.opening.salt.hex().encode() not in on_disk


def test_tampered_store_is_rejected(make_wallet: MakeWallet, make_request: MakeRequest) -> None:
    wallet = make_wallet()
    wallet.grant_consent(make_request(), now=NOW)
    path = wallet.directory / "store.json"
    document = json.loads(path.read_text())
    document["ciphertext"] = document["ciphertext"][:-4] + "AAAA"
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreError, match="tampered"):
        Wallet.open(wallet.directory, PASSPHRASE)


def test_withdraw_consent(make_wallet: MakeWallet, make_request: MakeRequest) -> None:
    wallet = make_wallet()
    signed = wallet.grant_consent(make_request(), now=NOW)
    withdrawal = wallet.withdraw_consent(signed.consent_id)
    assert withdrawal.signer() == wallet.address
    assert Wallet.open(wallet.directory, PASSPHRASE).consents()[0].withdrawal == withdrawal


def test_withdraw_unknown_consent_fails(make_wallet: MakeWallet) -> None:
    with pytest.raises(FormatError, match="not in this wallet"):
        make_wallet().withdraw_consent(b"\x01" * 32)


def test_receipt_is_verified_and_kept(
    make_wallet: MakeWallet, make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    wallet = make_wallet()
    request = make_request()
    signed = wallet.grant_consent(request, now=NOW)
    token = issue_consent_receipt(
        event=ReceiptEvent.GRANT,
        consent=signed,
        request=request,
        issuer=SERVICE,
        key=service_key,
        issued_at=NOW,
        transaction_hash="0x" + "cd" * 32,
        block_number=3,
        block_time=NOW,
    )
    wallet.add_consent_receipt(token, trusted_keys=trusted)
    assert wallet.consents()[0].receipts == (token,)
    stranger = make_wallet()
    with pytest.raises(VerificationError) as caught:
        stranger.add_consent_receipt(token, trusted_keys=trusted)
    assert caught.value.check == "holder"


def test_review_consent_from_qr(
    make_wallet: MakeWallet, make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    from wallet_sdk.consent import encode_consent_request_qr

    request = make_request()
    text = encode_consent_request_qr(request, issuer=SERVICE, key=service_key)
    assert make_wallet().review_consent(text, trusted_keys=trusted, now=NOW) == request


def test_sign_digest_verifies(make_wallet: MakeWallet) -> None:
    wallet = make_wallet()
    digest = hashlib.sha256(b"labour contract v1").digest()
    signature = wallet.sign_digest(digest, now=NOW)
    assert (
        verify_digest_signature(signature.jws, digest=digest, signer=wallet.did).signer
        == wallet.did
    )


def test_sign_digest_rejects_other_digest_and_signer(make_wallet: MakeWallet) -> None:
    wallet = make_wallet()
    signature = wallet.sign_digest(hashlib.sha256(b"a").digest(), now=NOW)
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature(
            signature.jws, digest=hashlib.sha256(b"b").digest(), signer=wallet.did
        )
    assert caught.value.check == "digest"
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature(signature.jws, digest=signature.digest, signer=make_wallet().did)
    assert caught.value.check == "signature"
    with pytest.raises(FormatError, match="32 bytes"):
        wallet.sign_digest(b"short", now=NOW)


def test_did_jwk_of_other_curve_is_refused_for_digests() -> None:
    p256 = Jwk.generate(Curve.P256)
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature("a.b.c", digest=b"\x00" * 32, signer=did_jwk(p256))
    assert caught.value.check == "key"


def test_wallet_modules_need_no_chain_or_service() -> None:
    import subprocess
    import sys

    # Of node_adapter, only the consent registry's web3-free formats, which the wallet signs.
    code = (
        "import sys, wallet_sdk.wallet, wallet_sdk.consent, wallet_sdk.login, wallet_sdk.cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('web3', 'node_adapter', 'credential_service', 'fastapi', 'sqlmodel')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(
        [
            "node_adapter",
            "node_adapter._values",
            "node_adapter.consent_format",
            "node_adapter.errors",
        ]
    )
