"""The ``hrss`` command: operator tasks on a service's database and keystore."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pydantic import ValidationError
from sqlmodel import Session

from credential_service.anchoring.cli import (
    anchor_command,
    verify_receipt_command,
    worker_command,
)
from credential_service.core.config import DatabaseSettings, Settings
from credential_service.errors import AuditChainBroken, ServiceError
from credential_service.labour.verify_cli import verify_evidence_command
from credential_service.persistence import create_database_engine
from credential_service.services.audit import verify_audit_chain


@click.group()
def main() -> None:
    """hrss-trust credential service operations."""


main.add_command(verify_evidence_command)
main.add_command(anchor_command)
main.add_command(verify_receipt_command)
main.add_command(worker_command)


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--database-url", help="Defaults to HRSS_DATABASE_URL / DATABASE_URL.")
def audit_verify(database_url: str | None) -> None:
    """Check the chain of hashes; exit 1 and name the first broken row when it is broken."""
    url = database_url or DatabaseSettings().database_url
    engine = create_database_engine(url)
    try:
        with Session(engine) as session:
            result = verify_audit_chain(session=session)
    except AuditChainBroken as err:
        click.echo(f"BROKEN: {err.message}", err=True)
        click.echo(f"first broken row: {err.detail['seq']}", err=True)
        sys.exit(1)
    except Exception as err:  # an unreadable database is an operator error, not a crash
        click.echo(f"error: cannot read the audit trail: {err}", err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    click.echo(f"OK: {result.entries} entries, head {result.head_hash}")


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("bootstrap")
@click.option(
    "--client-keystore",
    type=click.Path(path_type=Path),
    default=Path("var/demo-clients.keystore"),
    show_default=True,
    help="Encrypted keystore for the demo clients' private JWKs (service passphrase).",
)
def demo_bootstrap(client_keystore: Path) -> None:
    """Create the demo organisations and print their client credentials."""
    from credential_service.bootstrap import bootstrap_demo
    from credential_service.context import ServiceContext

    try:
        settings = Settings()
    except ValidationError as err:
        raise click.ClickException(str(err)) from err
    try:
        context = ServiceContext.open(settings)
        try:
            credentials = bootstrap_demo(
                context, client_keystore_path=client_keystore, client_passphrase=settings.passphrase
            )
        finally:
            context.close()
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}") from err
    for credential in credentials:
        click.echo(str(credential))


@demo.command("token")
@click.argument("client_id")
@click.option(
    "--client-keystore",
    type=click.Path(path_type=Path, exists=True),
    default=Path("var/demo-clients.keystore"),
    show_default=True,
    help="The demo clients' keystore written by `hrss demo bootstrap` or `make run`.",
)
@click.option("--url", default=None, help="Service base URL (default: the configured issuer URL).")
@click.option("--scope", default=None, help="Space-separated scopes to ask for (default: all).")
def demo_token(client_id: str, client_keystore: Path, url: str | None, scope: str | None) -> None:
    """Obtain an access token for a demo client with private_key_jwt (RFC 7523) and print it."""
    import json
    import secrets
    import time

    import httpx

    from credential_service.bootstrap import load_client_key
    from credential_service.keystore import FileKeystore
    from wallet_sdk import Jwk, sign_compact

    try:
        settings = Settings()
    except ValidationError as err:
        raise click.ClickException(str(err)) from err
    base = (url or settings.issuer_url).rstrip("/")
    token_endpoint = f"{base}/v1/auth/token"
    try:
        keystore = FileKeystore.open(client_keystore, settings.passphrase)
        jwk = load_client_key(keystore, client_id)
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}") from err
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(16),
    }
    assertion = sign_compact(json.dumps(claims).encode(), Jwk.from_jwk(jwk))
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    if scope:
        form["scope"] = scope
    try:
        response = httpx.post(token_endpoint, data=form, timeout=10)
    except httpx.HTTPError as err:
        raise click.ClickException(f"cannot reach {token_endpoint}: {err}") from err
    if response.status_code != 200:
        raise click.ClickException(f"{response.status_code}: {response.text}")
    click.echo(response.json()["access_token"])
