"""``hrss-wallet`` commands over a cardholder `Wallet`: identity, QR login, consent, credentials,
the training file and document signatures. Registered on the main group by `wallet_sdk.cli`.

Every command takes ``--wallet DIR``. Trusted service keys come from a JSON file
``{"<issuer>": [<public JWK>, ...]}`` given with ``--trust``. With ``--service URL`` the command
also talks to the credential service; without it, it prints what it would send.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import httpx

from wallet_sdk._cli_options import profile_option
from wallet_sdk.consent import ConsentRequest, RegistryDomain, verify_consent_receipt
from wallet_sdk.credentials import VC_SD_JWT_TYP, entity_id_from_uri, issuer_uri
from wallet_sdk.credentials.card_proof import ISSUANCE_PURPOSE
from wallet_sdk.credentials.training_file import TrainingFile, training_file_id
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.jose import Jwk, b64url_decode
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.wallet import Wallet

__all__ = ["WALLET_COMMANDS"]

_TIMEOUT = 30.0
_AUDIENCE = "urn:hrss:wallet"
"""The audience of the service's QR payloads to a wallet."""


def _read_passphrase(passphrase_file: Path | None, *, confirm: bool = False) -> str:
    if passphrase_file is not None:
        return passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
    value: str = click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def _fail(err: Exception, status: int = 2) -> None:
    click.echo(f"error: {err}", err=True)
    raise SystemExit(status)


def _open(wallet_dir: Path, passphrase_file: Path | None) -> Wallet:
    try:
        return Wallet.open(wallet_dir, _read_passphrase(passphrase_file))
    except WalletError as err:
        _fail(err)
        raise  # unreachable


def _trusted(path: Path) -> Mapping[str, Sequence[Jwk]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise FormatError("the trust file must map issuers to lists of JWKs")
        return {issuer: [Jwk.from_jwk(k).public() for k in keys] for issuer, keys in data.items()}
    except (ValueError, TypeError, WalletError) as err:
        _fail(FormatError(f"unreadable trust file {path}: {err}"))
        raise


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def _call(method: str, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
    """One request to the service; its error answer is printed and exits 1, an unreachable
    service exits 2."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, url, headers=headers, timeout=_TIMEOUT, **kwargs)
    except httpx.HTTPError as err:
        _fail(FormatError(f"cannot reach {url}: {err}"))
    if response.status_code >= 400:
        click.echo(response.text, err=True)
        raise SystemExit(1)
    return response


def _post(url: str, body: Mapping[str, Any], token: str | None = None) -> Any:
    return _call("POST", url, token, json=dict(body)).json()


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


_wallet_option = click.option(
    "--wallet",
    "wallet_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Wallet directory.",
)
_pass_option = click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the passphrase from this file instead of prompting.",
)
_trust_option = click.option(
    "--trust",
    "trust_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON {"issuer": [JWK, ...]} of trusted service keys.',
)
_now_option = click.option("--now", type=int, hidden=True, help="Unix time (tests).")


@click.command("init")
@_wallet_option
@_pass_option
@click.option(
    "--import-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Hex secp256k1 holder key to import instead of generating one.",
)
@profile_option
@click.option("--scrypt-n", type=int, default=2**15, hidden=True)
def init_command(
    wallet_dir: Path,
    passphrase_file: Path | None,
    import_key_file: Path | None,
    profile: str,
    scrypt_n: int,
) -> None:
    """Create a wallet: holder address for consents, did:jwk for credentials (an SM2 key in
    the national profile)."""
    passphrase = _read_passphrase(passphrase_file, confirm=True)
    try:
        if import_key_file is not None:
            raw = bytes.fromhex(import_key_file.read_text().strip().removeprefix("0x"))
            wallet = Wallet.import_key(
                wallet_dir, passphrase, holder_private_key=raw, scrypt_n=scrypt_n, profile=profile
            )
        else:
            wallet = Wallet.create(wallet_dir, passphrase, scrypt_n=scrypt_n, profile=profile)
    except (WalletError, ValueError) as err:
        _fail(err)
        return
    _echo_json({"address": wallet.address, "did": wallet.did, "profile": wallet.profile.value})


@click.command("whoami")
@_wallet_option
@_pass_option
def whoami_command(wallet_dir: Path, passphrase_file: Path | None) -> None:
    """Print the holder address, did:jwk and profile."""
    wallet = _open(wallet_dir, passphrase_file)
    _echo_json({"address": wallet.address, "did": wallet.did, "profile": wallet.profile.value})


@click.command("login")
@_wallet_option
@_pass_option
@_trust_option
@click.argument("qr_text")
@click.option("--service", "service_url", help="Post the answer to this service.")
@_now_option
def login_command(
    wallet_dir: Path,
    passphrase_file: Path | None,
    trust_file: Path,
    qr_text: str,
    service_url: str | None,
    now: int | None,
) -> None:
    """Answer a scanned login QR (电子社保卡扫码登录) with the wallet's e-card; print the answer
    or the token."""
    wallet = _open(wallet_dir, passphrase_file)
    try:
        answer = wallet.answer_login(
            qr_text,
            trusted_keys=_trusted(trust_file),
            audience=_AUDIENCE,
            now=_now(now),
        )
    except VerificationError as err:
        _fail(err, 1)
        return
    except WalletError as err:  # no e-card in the wallet
        _fail(err)
        return
    if service_url is None:
        click.echo(answer)
        return
    _echo_json(_post(f"{service_url.rstrip('/')}/v1/login/responses", {"response": answer}))


@click.group("consent")
def consent_group() -> None:
    """Review, grant, withdraw and list data-use consents."""


def _describe(request: ConsentRequest) -> None:
    controller = request.controller
    click.echo(f"Data user:      {controller.name} ({controller.credit_code})")
    click.echo(f"Contact:        {controller.contact}")
    click.echo("Purposes:")
    for purpose in request.purposes:
        click.echo(f"  - {purpose.value}: {purpose.label}")
    click.echo("Data:           " + ", ".join(c.value for c in request.data_categories))
    click.echo(f"Duration:       {request.duration_seconds // 86400} days")
    click.echo(f"Legal basis:    {request.legal_basis.value} ({request.jurisdiction})")
    click.echo(f"Withdraw:       {request.withdrawal_method}")
    if request.subject_reference:
        click.echo(f"About:          {request.subject_reference}")
    if request.notice:
        click.echo(f"Notice:         {request.notice}")


@consent_group.command("review")
@_wallet_option
@_pass_option
@_trust_option
@click.argument("qr_text")
@_now_option
def consent_review(
    wallet_dir: Path, passphrase_file: Path | None, trust_file: Path, qr_text: str, now: int | None
) -> None:
    """Verify a consent-request QR and show what it asks."""
    wallet = _open(wallet_dir, passphrase_file)
    try:
        request = wallet.review_consent(qr_text, trusted_keys=_trusted(trust_file), now=_now(now))
    except VerificationError as err:
        _fail(err, 1)
        return
    _describe(request)


@consent_group.command("grant")
@_wallet_option
@_pass_option
@_trust_option
@click.argument("qr_text")
@click.option("--purpose", "purposes", multiple=True, help="Grant only these purposes.")
@click.option("--category", "categories", multiple=True, help="Grant only these categories.")
@click.option("--days", type=int, help="Grant for fewer days than asked.")
@click.option("--service", "service_url", help="Relay the grant through this service.")
@click.option("--token", help="Cardholder access token (from `login`).")
@_now_option
def consent_grant(
    wallet_dir: Path,
    passphrase_file: Path | None,
    trust_file: Path,
    qr_text: str,
    purposes: tuple[str, ...],
    categories: tuple[str, ...],
    days: int | None,
    service_url: str | None,
    token: str | None,
    now: int | None,
) -> None:
    """Sign an EIP-712 grant for a consent-request QR; print it or relay it."""
    wallet = _open(wallet_dir, passphrase_file)
    at = _now(now)
    try:
        request = wallet.review_consent(qr_text, trusted_keys=_trusted(trust_file), now=at)
        signed = wallet.grant_consent(
            request,
            now=at,
            purposes=purposes or None,
            data_categories=categories or None,
            not_after=at + days * 86400 if days else None,
        )
    except VerificationError as err:
        _fail(err, 1)
        return
    except WalletError as err:
        _fail(err)
        return
    if service_url is None:
        _echo_json(signed.to_json())
        return
    _echo_json(_post(f"{service_url.rstrip('/')}/v1/consents", signed.to_json(), token))


@consent_group.command("withdraw")
@_wallet_option
@_pass_option
@click.argument("consent_id")
@click.option("--service", "service_url", help="Relay the withdrawal through this service.")
@click.option("--token", help="Cardholder access token (from `login`).")
def consent_withdraw(
    wallet_dir: Path,
    passphrase_file: Path | None,
    consent_id: str,
    service_url: str | None,
    token: str | None,
) -> None:
    """Sign the withdrawal of CONSENT_ID (0x-hex); print it or relay it. A consent granted
    with an earlier phone (see `consent list --service`) is withdrawn from this wallet too,
    with --service and --token."""
    wallet = _open(wallet_dir, passphrase_file)
    try:
        raw_id = bytes.fromhex(consent_id.removeprefix("0x"))
        if service_url is not None and token and not wallet.has_consent(raw_id):
            domain = _earlier_consent_registry(service_url.rstrip("/"), token, consent_id)
            withdrawal = wallet.withdraw_earlier_consent(raw_id, domain)
        else:
            withdrawal = wallet.withdraw_consent(raw_id)
    except (WalletError, ValueError) as err:
        _fail(err)
        return
    if service_url is None:
        _echo_json(withdrawal.to_json())
        return
    url = f"{service_url.rstrip('/')}/v1/consents/{consent_id}/withdrawal"
    _echo_json(_post(url, withdrawal.to_json(), token))


@consent_group.command("verify-receipt")
@click.argument("receipt_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_trust_option
@click.option("--rpc-url", "rpc_urls", multiple=True, help="Chain node URL (repeat for failover).")
@click.option(
    "--deployment",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployment JSON naming the registries you trust (with --rpc-url).",
)
def consent_verify_receipt(
    receipt_path: Path, trust_file: Path, rpc_urls: tuple[str, ...], deployment: Path | None
) -> None:
    """Verify the consent receipt in RECEIPT_PATH: the service's signature, the grant answering
    its request, the holder's signature. With --rpc-url and --deployment also the chain: the
    data subject's e-card proof (card issuer accredited, card active at the grant's block, key
    binding to this grant, the ID number the request names) and the registry's record. Exit 0
    verified, 1 a check failed (named), 2 unusable input."""
    from wallet_sdk.consent import verify_consent_receipt_on_chain

    trusted = _trusted(trust_file)
    token = receipt_path.read_text(encoding="utf-8").strip()
    card_verifier = view = registry = None
    if rpc_urls or deployment is not None:
        if not rpc_urls or deployment is None:
            raise click.UsageError("give both --rpc-url and --deployment (or neither: offline)")
        from node_adapter import Chain, ChainError, Deployment
        from wallet_sdk.consent_chain import NodeConsentView
        from wallet_sdk.credentials import CredentialVerifier, DirectTrustView

        try:
            loaded = Deployment.load(deployment)
        except ChainError as err:
            raise click.UsageError(str(err)) from err
        chain = Chain.from_urls(list(rpc_urls))
        card_verifier = CredentialVerifier(DirectTrustView(chain, loaded))
        view, registry = NodeConsentView(chain), loaded.consent_registry
    try:
        receipt = verify_consent_receipt(token, trusted_keys=trusted, card_verifier=card_verifier)
        if view is not None:
            if receipt.consent.domain.address.lower() != str(registry).lower():
                raise VerificationError("registry", "the receipt names another ConsentRegistry")
            verify_consent_receipt_on_chain(receipt, view)
    except VerificationError as err:
        click.echo(f"NOT VERIFIED: {err}")
        raise SystemExit(1) from err
    click.echo(
        f"{receipt.event.value} 0x{receipt.consent_id.hex()} holder {receipt.consent.terms.holder}"
    )
    if receipt.consent.identity_proof is None:
        click.echo("identity proof: none (the grant does not show who granted it)")
    elif card_verifier is None or receipt.withdrawal is not None:
        click.echo("identity proof: present, not checked here (its grant receipt's check)")
    else:
        click.echo("identity proof: the data subject's e-card, checked against the chain")
    click.echo("VERIFIED" if view is not None else "OFFLINE CHECKS PASSED (chain not checked)")


def _earlier_consent_registry(service: str, token: str, consent_id: str) -> RegistryDomain:
    """The registry of a consent granted with an earlier phone, from the grant receipt the
    service lists for the cardholder. Read without checking the service's signature: it only
    decides which registry the withdrawal is signed for, and a wrong one is refused on chain.
    Raises `FormatError` when the service lists no such consent."""
    for listed in _call("GET", f"{service}/v1/me/consents", token).json():
        if listed.get("consent_id", "").lower() == consent_id.lower() and listed["receipts"]:
            body = json.loads(b64url_decode(listed["receipts"][0].split(".")[1]))
            return RegistryDomain.from_json(body["consent"]["registry"])
    raise FormatError(f"the service lists no consent {consent_id} of yours")


@consent_group.command("list")
@_wallet_option
@_pass_option
@click.option("--service", "service_url", help="List what the service holds for you instead.")
@click.option("--token", help="Cardholder access token (from `login`), with --service.")
def consent_list(
    wallet_dir: Path, passphrase_file: Path | None, service_url: str | None, token: str | None
) -> None:
    """List the consents this wallet signed; with --service and --token, the consents the
    service holds for you, those granted with an earlier phone marked ``earlier-phone``."""
    if service_url is not None:
        if not token:
            _fail(FormatError("--service needs --token (from `login`)"))
        for listed in _call("GET", f"{service_url.rstrip('/')}/v1/me/consents", token).json():
            line = [
                listed["consent_id"],
                listed["state"],
                listed["data_user"],
                ",".join(listed["purposes"]),
            ]
            if listed.get("earlier_phone"):
                line.append("earlier-phone")
            click.echo("\t".join(line))
        return
    wallet = _open(wallet_dir, passphrase_file)
    for stored in wallet.consents():
        state = "withdrawn" if stored.withdrawal is not None else "granted"
        purposes = ",".join(p.value for p in stored.consent.opening.purposes)
        click.echo(
            f"0x{stored.consent_id.hex()}\t{state}\t{stored.request.controller.name}\t{purposes}"
        )


@click.group("credential")
def credential_group() -> None:
    """Keep, list, present and remove credentials."""


@credential_group.command("receive")
@_wallet_option
@_pass_option
@click.argument("token_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["vc+jwt", "vc+sd-jwt"]),
    default=None,
    help="Default: read from the token (an SD-JWT carries ~-separated disclosures).",
)
@_now_option
def credential_receive(
    wallet_dir: Path,
    passphrase_file: Path | None,
    token_file: Path,
    fmt: str | None,
    now: int | None,
) -> None:
    """Keep the credential in TOKEN_FILE (vc+jwt or vc+sd-jwt, told by the token)."""
    wallet = _open(wallet_dir, passphrase_file)
    try:
        stored = wallet.receive_credential(
            token_file.read_text().strip(), format=fmt, now=_now(now)
        )
    except WalletError as err:
        _fail(err)
        return
    click.echo(stored.credential_id)


@credential_group.command("list")
@_wallet_option
@_pass_option
def credential_list(wallet_dir: Path, passphrase_file: Path | None) -> None:
    """List the credentials in the wallet."""
    for stored in _open(wallet_dir, passphrase_file).credentials():
        click.echo(f"{stored.credential_id}\t{stored.format}\t{stored.received_at}")


@credential_group.command("remove")
@_wallet_option
@_pass_option
@click.argument("credential_id")
def credential_remove(wallet_dir: Path, passphrase_file: Path | None, credential_id: str) -> None:
    """Forget the credential CREDENTIAL_ID (as `credential list` shows it)."""
    try:
        _open(wallet_dir, passphrase_file).remove_credential(credential_id)
    except WalletError as err:
        _fail(err)
    click.echo(f"removed {credential_id}")


def _claims(values: tuple[str, ...]) -> list[str]:
    """Claim names given as repeated options and/or comma-separated lists."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


@credential_group.command("present")
@_wallet_option
@_pass_option
@click.argument("credential_ids", nargs=-1, required=True)
@click.option("--nonce", required=True, help="The verifier's nonce.")
@click.option("--audience", required=True, help="The verifier's identifier.")
@click.option(
    "--disclose", multiple=True, help="SD-JWT claims to disclose, e.g. level,occupationName."
)
@click.option(
    "--with-card",
    is_flag=True,
    help="Present the credential with this wallet's e-card, in one vp+jwt.",
)
@click.option(
    "--card-disclose", multiple=True, help="With --with-card: e-card claims to disclose, e.g. name."
)
@_now_option
def credential_present(
    wallet_dir: Path,
    passphrase_file: Path | None,
    credential_ids: tuple[str, ...],
    nonce: str,
    audience: str,
    disclose: tuple[str, ...],
    with_card: bool,
    card_disclose: tuple[str, ...],
    now: int | None,
) -> None:
    """Print a presentation of CREDENTIAL_IDS bound to the verifier's nonce and audience
    (with --with-card: one credential and the e-card, both shown only as far as asked)."""
    if card_disclose and not with_card:
        _fail(FormatError("--card-disclose goes with --with-card"))
    wallet = _open(wallet_dir, passphrase_file)
    try:
        click.echo(
            wallet.present(
                list(credential_ids),
                nonce=nonce,
                audience=audience,
                now=_now(now),
                disclose=_claims(disclose),
                with_card=with_card,
                card_disclose=_claims(card_disclose),
            )
        )
    except WalletError as err:
        _fail(err)


@credential_group.command("request")
@_wallet_option
@_pass_option
@click.option(
    "--issuer",
    required=True,
    help="The issuer's entity id (0x + 64 hex, from GET /v1/registry/organisations/<code>) "
    "or its urn:hrss:entity:0x... identifier.",
)
@click.option("--challenge", required=True, help="The issuer's one-time challenge.")
@click.option(
    "--disclose",
    multiple=True,
    default=("name,idNumber",),
    show_default=True,
    help="E-card claims the issuer checks against the credential subject.",
)
@_now_option
def credential_request(
    wallet_dir: Path,
    passphrase_file: Path | None,
    issuer: str,
    challenge: str,
    disclose: tuple[str, ...],
    now: int | None,
) -> None:
    """Print the card proof an issuer that requires the e-card sends with its issuance
    request (``card_proof`` of POST /v1/credentials): this wallet's e-card disclosing name and
    ID number, bound to the issuer and its challenge. The credential is then bound to the
    card's key, which is this wallet's."""
    named = issuer if issuer.startswith("urn:") else "urn:hrss:entity:" + issuer.lower()
    try:
        audience = issuer_uri(entity_id_from_uri(named))
    except WalletError as err:
        _fail(err)
        return
    wallet = _open(wallet_dir, passphrase_file)
    try:
        presentation = wallet.prove_card(
            purpose=ISSUANCE_PURPOSE,
            challenge=challenge,
            audience=audience,
            disclose=_claims(disclose),
            now=_now(now),
        )
    except WalletError as err:
        _fail(err)
        return
    _echo_json({"presentation": presentation, "challenge": challenge})


@click.group("training-file")
def training_file_group() -> None:
    """The holder's lifelong training file: its id, and presenting it to a verifier."""


@training_file_group.command("id")
@_wallet_option
@_pass_option
def training_file_id_command(wallet_dir: Path, passphrase_file: Path | None) -> None:
    """Print the id of this wallet's training file (what an institution links entries to)."""
    click.echo(training_file_id(_open(wallet_dir, passphrase_file).credential_key))


@training_file_group.command("present")
@_wallet_option
@_pass_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--nonce", required=True, help="The verifier's nonce.")
@click.option("--audience", required=True, help="The verifier's identifier.")
@click.option("--service", help="Credential service URL: ask it to verify the file.")
@click.option("--token", help="Bearer token for the service (the verifier's).")
@click.option("--period", type=click.Choice(["year", "quarter", "month"]), default="year")
@_now_option
def training_file_present(
    wallet_dir: Path,
    passphrase_file: Path | None,
    file: Path,
    nonce: str,
    audience: str,
    service: str | None,
    token: str | None,
    period: str,
    now: int | None,
) -> None:
    """Print FILE (a hrss-training-file/1 document) presented to the verifier's nonce and
    audience; with --service, post it to POST /v1/training-files/verify and print the
    report (exit status 1 unless the verdict is verified)."""
    wallet = _open(wallet_dir, passphrase_file)
    try:
        training_file = TrainingFile.parse(file.read_text(encoding="utf-8"))
        presentation = training_file.present(
            holder_key=wallet.credential_key, nonce=nonce, audience=audience, issued_at=_now(now)
        )
    except WalletError as err:
        _fail(err)
        return
    if service is None:
        click.echo(presentation.to_json())
        return
    report = _post(
        service.rstrip("/") + "/v1/training-files/verify",
        {
            "presentation": presentation.to_dict(),
            "nonce": nonce,
            "audience": audience,
            "period": period,
        },
        token,
    )
    _echo_json(report)
    if report.get("verdict") != "verified":
        raise SystemExit(1)


@click.command("sign-digest")
@_wallet_option
@_pass_option
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--algorithm",
    type=click.Choice([a.value for a in HashAlgorithm]),
    default=HashAlgorithm.SHA256.value,
    show_default=True,
    help="The hash of the digest signed (named in the signature's digest_alg).",
)
@_now_option
def sign_digest_command(
    wallet_dir: Path, passphrase_file: Path | None, document: Path, algorithm: str, now: int | None
) -> None:
    """Sign the digest of DOCUMENT (SHA-256, or SM3 with --algorithm sm3) with the did:jwk
    key (purpose ``sign``).

    A labour contract is signed with `contract sign`: the service expects a signature over
    the record it prepared (digest, purpose and time), not over the file.
    """
    wallet = _open(wallet_dir, passphrase_file)
    hash_algorithm = HashAlgorithm(algorithm)
    digest = hash_algorithm.digest_file(document)
    signature = wallet.sign_digest(digest, now=_now(now), algorithm=hash_algorithm)
    _echo_json(
        {
            "signer": signature.signer,
            "digest_alg": hash_algorithm.value,
            "digest": digest.hex(),
            "jws": signature.jws,
        }
    )


# ------------------------------------------------------------------- labour contracts


@click.group("contract")
def contract_group() -> None:
    """Review and sign labour contracts (电子劳动合同) an employer sent you.

    Sign in with --token (from `login`), or let the command log in itself with --trust (the
    service's trust file, GET /v1/consents/trust): it asks the service for a login QR, checks
    the service's signature on it and answers it with the wallet's e-card and holder key.
    """


_service_option = click.option(
    "--service", "service_url", required=True, help="The credential service's base URL."
)
_token_option = click.option("--token", help="Cardholder access token (from `login`).")
_login_trust_option = click.option(
    "--trust",
    "trust_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Log in with this JSON {"issuer": [JWK, ...]} of trusted service keys (no --token).',
)


def _cardholder_token(
    wallet: Wallet, service: str, token: str | None, trust_file: Path | None, now: int
) -> str:
    if token:
        return token
    if trust_file is None:
        _fail(FormatError("sign in: give --token (from `login`) or --trust to log in now"))
    assert trust_file is not None
    try:
        wallet.social_security_card()
    except WalletError as err:  # before asking for a challenge it could not answer
        _fail(err)
    challenge = _post(f"{service}/v1/login/challenges", {})
    try:
        answer = wallet.answer_login(
            challenge["qr"], trusted_keys=_trusted(trust_file), audience=_AUDIENCE, now=now
        )
    except VerificationError as err:
        _fail(err, 1)
    except WalletError as err:
        _fail(err)
    issued: str = _post(f"{service}/v1/login/responses", {"response": answer})["access_token"]
    return issued


class _Cardholder:
    """A signed-in wallet: the wallet, the service URL, the access token and "now"."""

    def __init__(self, wallet: Wallet, service: str, token: str, now: int) -> None:
        self.wallet = wallet
        self.service = service
        self.token = token
        self.now = now


def _as_cardholder(function: Callable[..., None]) -> Callable[..., None]:
    """Give a command the wallet and sign-in options and call it with the `_Cardholder`."""

    @functools.wraps(function)
    def command(
        *,
        wallet_dir: Path,
        passphrase_file: Path | None,
        service_url: str,
        token: str | None,
        trust_file: Path | None,
        now: int | None,
        **options: Any,
    ) -> None:
        wallet, service, at = _open(wallet_dir, passphrase_file), service_url.rstrip("/"), _now(now)
        bearer = _cardholder_token(wallet, service, token, trust_file, at)
        function(_Cardholder(wallet, service, bearer, at), **options)

    for option in (
        _now_option, _login_trust_option, _token_option, _service_option, _pass_option,
        _wallet_option,
    ):  # fmt: skip
        command = option(command)
    return command


def _contract_json(service: str, token: str, contract_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = _call(
        "GET", f"{service}/v1/me/labour-contracts/{contract_id}", token
    ).json()
    return answer


@contract_group.command("list")
@_as_cardholder
def contract_list(me: _Cardholder) -> None:
    """Your contracts: id, state, latest version, employer, who signs next."""
    from wallet_sdk.evidence import contract_line

    for contract in _call("GET", f"{me.service}/v1/me/labour-contracts", me.token).json():
        line = contract_line(contract, party="employer_name")
        click.echo(line + "\tearlier-phone" if contract.get("earlier_phone") else line)


@contract_group.command("show")
@click.argument("contract_id")
@click.option(
    "--document",
    "document_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the latest version's document to this file, to read before signing.",
)
@_as_cardholder
def contract_show(me: _Cardholder, contract_id: str, document_out: Path | None) -> None:
    """One contract with its key terms (position, term, wage...) and what waits for you."""
    contract = _contract_json(me.service, me.token, contract_id)
    if document_out is not None:
        url = f"{me.service}/v1/me/labour-contracts/{contract_id}/document"
        document_out.write_bytes(_call("GET", url, me.token).content)
    _echo_json(contract)


@contract_group.command("sign")
@click.argument("contract_id")
@click.option(
    "--document",
    "reviewed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The document you read: refuse to sign unless the record names exactly this file.",
)
@_as_cardholder
def contract_sign(me: _Cardholder, contract_id: str, reviewed: Path | None) -> None:
    """Sign what waits for your signature (the employer's offer of a version, or a
    termination) with the wallet's did:jwk key, over the record the service prepared. The
    signature carries a proof of your e-card bound to that record, disclosing your name and
    ID number to the service (and the court): the contract must name you. The document you
    read is hashed with the hash the record names (SHA-256, or SM3 in the national profile)."""
    from wallet_sdk.evidence import Role, pending_record, sign_as_employee

    contract = _contract_json(me.service, me.token, contract_id)
    try:
        record = pending_record(contract, role=Role.EMPLOYEE, at=me.now)
        if reviewed is not None:
            digest = "0x" + record.digest_alg.digest_file(reviewed).hex()
            if digest != record.document_digest:
                _fail(
                    VerificationError(
                        "document", f"the record names another document than {reviewed}"
                    ),
                    1,
                )
        signature = sign_as_employee(
            record, wallet=me.wallet, card=me.wallet.social_security_card().token
        )
    except WalletError as err:
        _fail(err)
        return
    url = f"{me.service}/v1/me/labour-contracts/{contract_id}/signature"
    _echo_json(_post(url, {"jws": signature.jws, "card_proof": signature.card_proof}, me.token))


@click.group("card")
def card_group() -> None:
    """The electronic social security card (电子社保卡)."""


@card_group.command("activate")
@_wallet_option
@_pass_option
@click.argument("code")
@click.option("--service", "service_url", required=True, help="The credential service's base URL.")
@_now_option
def card_activate(
    wallet_dir: Path, passphrase_file: Path | None, code: str, service_url: str, now: int | None
) -> None:
    """Redeem the activation CODE the card issuer gave: prove the wallet's credential key,
    receive the e-card bound to it, and keep it. Prints the e-card's id in the wallet (as
    `credential list` shows it) and, when it replaced an earlier card, ``replaced`` and that
    card's id on ``StatusRegistry``."""
    wallet = _open(wallet_dir, passphrase_file)
    at = _now(now)
    try:
        proof = wallet.card_activation_proof(code.strip().upper(), now=at)
    except WalletError as err:
        _fail(err)
        return
    answer = _post(service_url.rstrip("/") + "/v1/cards/activations/redeem", {"proof": proof})
    try:
        stored = wallet.receive_credential(answer["credential"], format=VC_SD_JWT_TYP, now=at)
    except (WalletError, KeyError, TypeError) as err:
        _fail(FormatError(f"the service's answer is not an e-card: {err}"))
        return
    click.echo(stored.credential_id)
    if answer.get("replaced"):
        click.echo(f"replaced {answer['replaced']}")


WALLET_COMMANDS: tuple[click.Command, ...] = (
    init_command,
    whoami_command,
    login_command,
    consent_group,
    credential_group,
    training_file_group,
    sign_digest_command,
    contract_group,
    card_group,
)
