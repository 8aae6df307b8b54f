"""``hrss-wallet``: keystore, evidence, receipt and QR commands for cardholders and verifiers.

Passphrases are prompted for (hidden) or read from a file given with ``--passphrase-file``;
the command never reads them from the environment. Exit status: 0 success, 1 verification
failed, 2 usage or input error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn, TextIO

import click

from wallet_sdk._cli_options import profile_option
from wallet_sdk.errors import FormatError, WalletError
from wallet_sdk.jose import Curve
from wallet_sdk.keystore import Keystore
from wallet_sdk.privacy import PersonalValue, scan_chain_for
from wallet_sdk.profile import WalletProfile
from wallet_sdk.qr import render_qr_png, render_qr_text

__all__ = ["main"]

_CURVES = {curve.value.lower(): curve for curve in Curve}


def _passphrase(passphrase_file: Path | None, *, confirm: bool) -> str:
    if passphrase_file is not None:
        return passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
    value: str = click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def _fail(err: WalletError) -> None:
    click.echo(f"error: {err}", err=True)
    raise SystemExit(2)


_passphrase_option = click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the passphrase from this file instead of prompting.",
)


@click.group()
def main() -> None:
    """Wallet and verifier tools for hrss-trust: keys, evidence, anchor receipts, QR codes."""


@main.group()
def keystore() -> None:
    """Manage an encrypted keystore file."""


@keystore.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@profile_option
@_passphrase_option
def keystore_create(path: Path, profile: str, passphrase_file: Path | None) -> None:
    """Create an empty keystore at PATH (its passphrase check sealed with the profile's
    cipher)."""
    try:
        Keystore.create(
            path, _passphrase(passphrase_file, confirm=True), cipher=WalletProfile(profile).cipher
        )
    except WalletError as err:
        _fail(err)
    click.echo(f"created {path}")


@keystore.command("generate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@profile_option
@click.option(
    "--curve",
    type=click.Choice(sorted(_CURVES)),
    help="Key curve (default: the profile's, ed25519 or sm2).",
)
@click.option("--kid", help="Key id (default: the RFC 7638 thumbprint).")
@_passphrase_option
def keystore_generate(
    path: Path, profile: str, curve: str | None, kid: str | None, passphrase_file: Path | None
) -> None:
    """Generate a key into the keystore and print its public JWK."""
    chosen = WalletProfile(profile)
    try:
        store = Keystore.load(path, _passphrase(passphrase_file, confirm=False))
        key = store.generate_key(
            chosen.signing_curve if curve is None else _CURVES[curve],
            kid=kid,
            cipher=chosen.cipher,
        )
    except WalletError as err:
        _fail(err)
    click.echo(json.dumps(key.public_jwk(), sort_keys=True))


@keystore.command("list")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_passphrase_option
def keystore_list(path: Path, passphrase_file: Path | None) -> None:
    """List key ids, curves and public-key fingerprints."""
    try:
        store = Keystore.load(path, _passphrase(passphrase_file, confirm=False))
    except WalletError as err:
        _fail(err)
    for entry in store.entries():
        click.echo(f"{entry.kid}\t{entry.curve.value}\t{json.dumps(entry.public_jwk)}")


@main.command("qr")
@click.argument("text")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path))
def qr_command(text: str, png_path: Path | None) -> None:
    """Show TEXT as a QR code in the terminal, or write it as PNG."""
    try:
        if png_path is not None:
            png_path.write_bytes(render_qr_png(text))
            click.echo(f"wrote {png_path}")
        else:
            click.echo(render_qr_text(text))
    except WalletError as err:
        _fail(err)


_VALUE_KINDS = {
    "name": PersonalValue.person_name,
    "id_number": PersonalValue.id_number,
    "phone": PersonalValue.phone,
}


def _personal_value(label: str, text: str) -> PersonalValue:
    """``name``, ``id_number`` and ``phone`` get their own spellings; any other label is
    searched as text."""
    build = _VALUE_KINDS.get(label)
    return build(text) if build is not None else PersonalValue.text(label, text)


def _values_from_file(handle: TextIO) -> list[PersonalValue]:
    values = []
    for number, line in enumerate(handle.read().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        label, sep, text = stripped.partition("=")
        if not sep:
            # Never echo the line: it holds personal data.
            raise FormatError(f"values file line {number}: expected LABEL=TEXT")
        values.append(_personal_value(label.strip(), text.strip()))
    return values


@main.command("privacy-check")
@click.option(
    "--rpc-url",
    "rpc_urls",
    multiple=True,
    required=True,
    help="Node JSON-RPC URL (repeat for failover).",
)
@click.option("--name", "names", multiple=True, help="A person's name to look for.")
@click.option("--id-number", "id_numbers", multiple=True, help="An ID number to look for.")
@click.option("--phone", "phones", multiple=True, help="A phone number to look for.")
@click.option(
    "--value", "labelled", multiple=True, metavar="LABEL=TEXT", help="Any other value, labelled."
)
@click.option(
    "--values-file",
    type=click.File("r", encoding="utf-8"),
    help="LABEL=TEXT lines (name, id_number, phone or any label); '-' reads stdin. "
    "Keeps the values out of shell history.",
)
@click.option("--from-block", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--to-block", type=click.IntRange(min=0), help="Default: the latest block.")
@click.option("--address", "addresses", multiple=True, help="Only these contracts (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def privacy_check_command(
    rpc_urls: tuple[str, ...],
    names: tuple[str, ...],
    id_numbers: tuple[str, ...],
    phones: tuple[str, ...],
    labelled: tuple[str, ...],
    values_file: TextIO | None,
    from_block: int,
    to_block: int | None,
    addresses: tuple[str, ...],
    timeout: float,
    as_json: bool,
) -> None:
    """Check that none of the given personal data is on the chain, in any plain or
    unsalted-hashed encoding (UTF-8/16/32, GB18030, hex, base64, keccak256, SHA-256, SM3 ...).

    Reads every transaction input and log from the node; values are shown masked only. Exit
    status: 0 none found, 1 found (where is printed), 2 bad input or node unreachable. Salted
    or keyed commitments (HMAC) cannot be detected and are not meant to be.
    """
    try:
        values = [PersonalValue.person_name(v) for v in names]
        values += [PersonalValue.id_number(v) for v in id_numbers]
        values += [PersonalValue.phone(v) for v in phones]
        for item in labelled:
            label, sep, text = item.partition("=")
            if not sep:
                raise FormatError("--value takes LABEL=TEXT")
            values.append(_personal_value(label, text))
        if values_file is not None:
            values += _values_from_file(values_file)
        if not values:
            raise FormatError(
                "nothing to look for: give --name, --id-number, --phone, --value or --values-file"
            )
    except WalletError as err:
        _fail(err)
    # Imported here: the chain stack is only needed by this command.
    from node_adapter import Chain, ChainError

    try:
        chain = Chain.from_urls(list(rpc_urls), timeout=timeout)
        report = scan_chain_for(
            values,
            chain,
            from_block=from_block,
            to_block=to_block,
            addresses=addresses or None,
        )
    except (ChainError, WalletError) as err:
        _fail_with(err)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(report.describe())
    if not report.clean:
        raise SystemExit(1)


def _fail_with(err: Exception) -> NoReturn:
    click.echo(f"error: {err}", err=True)
    raise SystemExit(2)


# Cardholder wallet commands (init, whoami, login, consent, credential, sign-digest).
from wallet_sdk._wallet_cli import WALLET_COMMANDS  # noqa: E402

for _command in WALLET_COMMANDS:
    main.add_command(_command)

# The verifier's commands (also registered as `hrss verify-evidence` / `hrss verify-receipt`).
from wallet_sdk.verify_cli import verify_evidence_command, verify_receipt_command  # noqa: E402

main.add_command(verify_evidence_command)
main.add_command(verify_receipt_command)
