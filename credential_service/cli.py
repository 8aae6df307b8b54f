"""The ``hrss`` command: operator tasks on a service's database and keystore."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pydantic import ValidationError
from sqlmodel import Session

from credential_service.core.config import DatabaseSettings, Settings
from credential_service.errors import AuditChainBroken, ServiceError
from credential_service.persistence import create_database_engine
from credential_service.services.audit import verify_audit_chain


@click.group()
def main() -> None:
    """hrss-trust credential service operations."""


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
