"""The ``hrss`` command: operator tasks on a service's database and keystore, and the
organisations' tools against a running service (anchoring, labour contracts, their own keys).

Every command imports what it needs when it runs, so ``hrss --help`` starts at once: the
modules named below import only click at their top.

``hrss verify-evidence`` and ``hrss verify-receipt`` are aliases: the same command objects as
``hrss-wallet verify-evidence`` / ``verify-receipt`` (`wallet_sdk.verify_cli`), which need only
the base install. The entry point is installed with the base package too; every other command
needs the ``server`` extra (``pip install 'hrss-trust[server]'``) and, without it, stops with a
message that says so instead of a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from credential_service.anchoring.cli import anchor_command, worker_command
from credential_service.key_cli import key_group
from credential_service.labour.cli import contract_group
from wallet_sdk.verify_cli import verify_evidence_command, verify_receipt_command

if TYPE_CHECKING:
    from credential_service.core.config import Settings


# Top-level modules of the `server` extra (pyproject.toml); a command that needs one of them
# in a base install says which extra to install.
_SERVER_MODULES = frozenset(
    {"fastapi", "uvicorn", "sqlmodel", "sqlalchemy", "alembic", "psycopg", "jwt", "pydantic"}
    | {"pydantic_settings", "multipart", "tqdm", "reportlab", "pikepdf", "fastapi_offline"}
)


class _Main(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as err:
            if (err.name or "").split(".")[0] not in _SERVER_MODULES:
                raise
            raise click.ClickException(
                f"this command needs the service's dependencies ({err.name} is not installed): "
                "pip install 'hrss-trust[server]'"
            ) from err


@click.group(cls=_Main)
def main() -> None:
    """hrss-trust credential service operations."""


main.add_command(verify_evidence_command)
main.add_command(anchor_command)
main.add_command(verify_receipt_command)
main.add_command(worker_command)
main.add_command(contract_group)
main.add_command(key_group)


def _settings() -> Settings:
    """The service settings, or a command error that names what to set."""
    from pydantic import ValidationError

    from credential_service.core.config import Settings, describe_settings_error

    try:
        return Settings()
    except ValidationError as err:
        raise click.ClickException(describe_settings_error(err)) from err


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--database-url", help="Defaults to HRSS_DATABASE_URL / DATABASE_URL.")
def audit_verify(database_url: str | None) -> None:
    """Check the chain of hashes; exit 1 and name the first broken row when it is broken."""
    from sqlmodel import Session

    from credential_service.core.config import DatabaseSettings
    from credential_service.errors import AuditChainBroken
    from credential_service.persistence import create_database_engine
    from credential_service.services.audit import verify_audit_chain

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
    from credential_service.errors import ServiceError

    settings = _settings()
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
    """Obtain an access token for a demo client with private_key_jwt (RFC 7523) and print it.

    The demo keystore opens with the service passphrase: run with HRSS_DEV_MODE=true (as
    `make run` prints it) or HRSS_KEYSTORE_PASSPHRASE.
    """
    from credential_service.service_client import client_jwk, fetch_access_token

    jwk = client_jwk(client_id=client_id, key_file=None, client_keystore=client_keystore)
    base = url or _settings().issuer_url
    click.echo(fetch_access_token(base, client_id, jwk, scope=scope))
