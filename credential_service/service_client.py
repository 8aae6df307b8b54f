"""The ``hrss`` commands' side of the service's HTTP API: an organisation's private key (a JWK
file, or the demo keystore `make run` writes), an access token obtained with it by
``private_key_jwt`` (RFC 7523), and the service's error answers turned into command errors.

The commands import this module when they run, not when ``hrss`` starts (httpx is slow to
import).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
import httpx

__all__ = [
    "answer_error",
    "checked",
    "client_assertion",
    "client_jwk",
    "fetch_access_token",
    "service_session",
]

_TIMEOUT = 60.0


def answer_error(response: httpx.Response) -> click.ClickException:
    """The service's ``{code, message}`` answer as a command error (exit status 1)."""
    try:
        body = response.json()
        message = f"{body.get('code')}: {body.get('message')}"
        detail = body.get("detail")
        if detail:
            message += f" {json.dumps(detail, ensure_ascii=False)}"
    except (ValueError, AttributeError):
        message = response.text[:200]
    return click.ClickException(f"the service answered {response.status_code}: {message}")


def checked(response: httpx.Response, *expected: int) -> httpx.Response:
    """`response` when its status is one of `expected` (200 unless given); else raises the
    `answer_error`."""
    if response.status_code not in (expected or (200,)):
        raise answer_error(response)
    return response


def client_jwk(
    *, client_id: str, key_file: Path | None, client_keystore: Path | None
) -> dict[str, str]:
    """The organisation's private JWK: from `key_file` (a JSON JWK), or from the demo
    `client_keystore` (opened with the service passphrase: ``HRSS_DEV_MODE=true`` or
    ``HRSS_KEYSTORE_PASSPHRASE``). Raises `click.UsageError` unless exactly one is given and
    `click.ClickException` when the key cannot be read."""
    if (key_file is None) == (client_keystore is None):
        raise click.UsageError("give the organisation's key: --key-file or --client-keystore")
    if key_file is not None:
        try:
            jwk = json.loads(key_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise click.ClickException(f"cannot read the key file {key_file}: {err}") from err
        if not isinstance(jwk, dict) or "d" not in jwk:
            raise click.ClickException(f"{key_file} holds no private JWK")
        return {str(k): str(v) for k, v in jwk.items()}
    assert client_keystore is not None
    from credential_service.bootstrap import load_client_key

    return _from_demo_keystore(client_keystore, load_client_key, client_id)


def document_jwk(*, client_id: str, client_keystore: Path) -> dict[str, str] | None:
    """The demo employer's document-signing JWK (entry ``document/<id>`` of `make run`'s
    client keystore), or None when the keystore holds none for `client_id`. Raises
    `click.ClickException` when the keystore cannot be opened."""
    from credential_service.bootstrap import load_document_key
    from credential_service.errors import ServiceError

    try:
        return _from_demo_keystore(client_keystore, load_document_key, client_id, missing=True)
    except ServiceError:
        return None


def _from_demo_keystore(
    client_keystore: Path,
    load: Callable[[Any, str], dict[str, str]],
    client_id: str,
    *,
    missing: bool = False,
) -> dict[str, str]:
    """`load(keystore, client_id)` on the demo keystore, opened with the service passphrase;
    with `missing`, a `ServiceError` of `load` (no such entry) is raised as it is."""
    from pydantic import ValidationError

    from credential_service.core.config import Settings, describe_settings_error
    from credential_service.errors import ServiceError
    from credential_service.keystore import FileKeystore

    try:
        passphrase = Settings().passphrase
    except ValidationError as err:
        raise click.ClickException(
            f"cannot open the client keystore: {describe_settings_error(err)} "
            "(the demo keystore of `make run` opens with HRSS_DEV_MODE=true)"
        ) from err
    try:
        return load(FileKeystore.open(client_keystore, passphrase), client_id)
    except ServiceError as err:
        if missing:
            raise
        raise click.ClickException(f"{err.code}: {err.message}") from err


def client_assertion(jwk: Mapping[str, str], *, client_id: str, token_endpoint: str) -> str:
    """A ``private_key_jwt`` client assertion (RFC 7523) for `client_id`, valid for 60 s, signed
    with the private `jwk` under its own algorithm (every organisation curve, SM2 too) and
    ``kid`` (its RFC 7638 thumbprint when it has none)."""
    from wallet_sdk import Jwk, sign_compact

    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(16),
    }
    return sign_compact(json.dumps(claims).encode(), Jwk.from_jwk(dict(jwk)))


def fetch_access_token(
    base_url: str, client_id: str, jwk: Mapping[str, str], *, scope: str | None = None
) -> str:
    """An access token from ``{base_url}/v1/auth/token`` for `client_id`, signing the client
    assertion with its private `jwk`. Raises `click.ClickException` when the service cannot be
    reached or refuses."""
    token_endpoint = f"{base_url.rstrip('/')}/v1/auth/token"
    assertion = client_assertion(jwk, client_id=client_id, token_endpoint=token_endpoint)
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    if scope:
        form["scope"] = scope
    try:
        response = httpx.post(token_endpoint, data=form, timeout=_TIMEOUT)
    except httpx.HTTPError as err:
        raise click.ClickException(f"cannot reach {token_endpoint}: {err}") from err
    token: str = checked(response).json()["access_token"]
    return token


def service_session(base_url: str, token: str) -> httpx.Client:
    """An HTTP client for the service that sends `token`."""
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=_TIMEOUT,
    )
