"""How an ``hrss`` command signs in as an organisation: the connection options it takes
(``--service``, ``--client-id``, ``--key-file`` or the demo ``--client-keystore``), written
once for every command that talks to a running service. Imports only click, so ``hrss --help``
stays fast."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["connection_options", "signing_in"]

SignIn = Callable[[str, str, Path | None, Path | None], Any]
"""Builds the signed-in party from (service URL, client id, key file, client keystore)."""


def connection_options(who: str) -> tuple[Callable[[Any], Any], ...]:
    """The click options of a command that signs in as `who` (``"employer"``,
    ``"organisation"``), in the order ``--help`` lists them."""
    return (
        click.option("--service", "service_url", required=True, help="Service base URL."),
        click.option("--client-id", required=True, help=f"The {who}'s client id (credit code)."),
        click.option(
            "--key-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help=f"The {who}'s private client key, a JSON JWK.",
        ),
        click.option(
            "--client-keystore",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Instead of --key-file: the demo clients' keystore of `make run` "
            "(with HRSS_DEV_MODE=true).",
        ),
    )


def signing_in(who: str, build: SignIn) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator that gives a command the connection options and calls it with what
    `build` makes of them (the signed-in `who`) in their place."""

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(function)
        def command(
            *,
            service_url: str,
            client_id: str,
            key_file: Path | None,
            client_keystore: Path | None,
            **options: Any,
        ) -> None:
            function(build(service_url, client_id, key_file, client_keystore), **options)

        for option in reversed(connection_options(who)):
            command = option(command)
        return command

    return decorate
