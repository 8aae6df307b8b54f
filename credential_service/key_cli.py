"""``hrss key``: an organisation's own keys against a running service: generate one on any
organisation curve, register its public part (client authentication or document signing),
list what is registered.

``generate`` writes a private JWK file (mode 0600, ``kid`` its RFC 7638 thumbprint) on
Ed25519, P-256, P-384, P-521 or SM2 and prints the public JWK. ``register`` and ``list`` sign in
as the organisation (``--client-id`` and its private client key from ``--key-file`` or the demo
``--client-keystore``) with ``private_key_jwt``; ``register`` sends only the public members of
the JWK file it is given, and the service registers the key in `TrustRegistry`.

Exit status: 0 done; 1 the service refused (its ``code`` and message are printed) or a file
could not be read or written; 2 usage.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from credential_service.cli_connection import signing_in

__all__ = ["key_group"]

# The curves of the service's organisation KeyAlgorithm (Curve.value, lower case), in the order
# a user reads them; a test pins this list against the enum.
ORGANISATION_CURVES = ("ed25519", "p-256", "p-384", "p-521", "sm2")
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


@click.group("key")
def key_group() -> None:
    """An organisation's own keys: generate, register on chain through the service, list."""


@key_group.command("generate")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--curve",
    type=click.Choice(ORGANISATION_CURVES),
    default="ed25519",
    show_default=True,
    help="Ed25519 (EdDSA), P-256 (ES256), P-384 (ES384), P-521 (ES512) or SM2 (SM2SM3).",
)
def generate_command(out: Path, curve: str) -> None:
    """Write a new private JWK to OUT (never over an existing file) and print its public JWK."""
    from wallet_sdk.jose import Curve, Jwk

    chosen = next(c for c in Curve if c.value.lower() == curve)
    key = Jwk.generate(chosen)
    key = key.with_kid(key.thumbprint_b64())
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise click.ClickException(f"cannot create {out}: {err.strerror}") from err
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(key.private_jwk(), file, indent=2, sort_keys=True)
        file.write("\n")
    click.echo(json.dumps(key.public_jwk(), sort_keys=True))


class _Organisation:
    """The signed-in organisation."""

    def __init__(
        self, service: str, client_id: str, key_file: Path | None, client_keystore: Path | None
    ) -> None:
        self.service = service
        self.client_id = client_id
        self.key_file = key_file
        self.client_keystore = client_keystore

    def keys_path(self, organisation: str | None) -> str:
        """Where the keys of `organisation` (default: the client itself) are."""
        return f"/v1/organisations/{organisation or self.client_id}/keys"

    def session(self) -> Any:
        from credential_service.service_client import (
            client_jwk,
            fetch_access_token,
            service_session,
        )

        jwk = client_jwk(
            client_id=self.client_id, key_file=self.key_file, client_keystore=self.client_keystore
        )
        return service_session(self.service, fetch_access_token(self.service, self.client_id, jwk))


_as_organisation = signing_in("organisation", _Organisation)
_organisation_option = click.option(
    "--organisation",
    help="Whose keys: the client itself (default) or an organisation it accredited.",
)


def _public_members(path: Path) -> dict[str, str]:
    """The public members of the JWK in `path` (a private JWK gives its public part)."""
    try:
        jwk = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise click.ClickException(f"cannot read the JWK file {path}: {err}") from err
    if not isinstance(jwk, dict):
        raise click.ClickException(f"{path} holds no JWK")
    return {name: str(jwk[name]) for name in _PUBLIC_MEMBERS if name in jwk}


@key_group.command("register")
@click.argument("jwk_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--purpose",
    type=click.Choice(["client_authentication", "document_signing"]),
    default="client_authentication",
    show_default=True,
    help="What the key is registered for; verifiers accept a key only for its purpose.",
)
@click.option(
    "--valid-from", type=click.DateTime(), help="First moment of validity (UTC); default now."
)
@click.option("--valid-until", type=click.DateTime(), help="End of validity (UTC); default open.")
@_organisation_option
@_as_organisation
def register_command(
    signed_in: _Organisation,
    organisation: str | None,
    jwk_file: Path,
    purpose: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
) -> None:
    """Register the public key of JWK_FILE (a private JWK file gives only its public part);
    print the registered key."""
    from credential_service.service_client import checked

    body: dict[str, Any] = {"jwk": _public_members(jwk_file), "purpose": purpose}
    for name, moment in (("valid_from", valid_from), ("valid_until", valid_until)):
        if moment is not None:
            body[name] = moment.isoformat() + ("Z" if moment.tzinfo is None else "")
    with signed_in.session() as client:
        response = client.post(signed_in.keys_path(organisation), json=body)
        click.echo(json.dumps(checked(response, 201).json(), indent=2, sort_keys=True))


@key_group.command("list")
@_organisation_option
@_as_organisation
def list_command(signed_in: _Organisation, organisation: str | None) -> None:
    """Print the organisation's registered keys: id, algorithm, purpose, validity."""
    from credential_service.service_client import checked

    with signed_in.session() as client:
        keys = checked(client.get(signed_in.keys_path(organisation))).json()
    for key in keys:
        until = key["valid_until"] or "open"
        click.echo(f"{key['key_id']}\t{key['alg']}\t{key['purpose']}\t{key['valid_from']}\t{until}")
