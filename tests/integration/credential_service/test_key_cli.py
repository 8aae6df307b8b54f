"""``hrss key`` against a real server on loopback (uvicorn, the service app on the session's
in-process chain): an employer generates P-384, P-521 and SM2 keys, registers them for client
authentication and document signing, and signs in with the new P-384 client key to list them;
the service's refusals come back as exit status 1 with its code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.bootstrap import bootstrap_demo, load_client_key
from credential_service.cli import main
from credential_service.context import ServiceContext
from credential_service.key_cli import ORGANISATION_CURVES
from credential_service.keystore import FileKeystore
from credential_service.models import KeyAlgorithm, OrganisationKind
from node_adapter import Chain
from tests.e2e.browser import serve
from tests.fixtures.running_service import free_port
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm


@pytest.fixture(scope="module")
def loopback(
    service_chain: Chain,
    database_url_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, Path]]:
    """(base URL, the demo employer's client id, its private client JWK file)."""
    directory = tmp_path_factory.mktemp("key-cli")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        dev_mode=True,
        database_url=database_url_factory("sqlite"),
        keystore_path=directory / "service.keystore",
        keystore_passphrase=SecretStr("key-cli-test-passphrase"),
        issuer_url=base,  # client assertions are addressed to the URL the CLI calls
    )
    context = ServiceContext.open(settings, chain=service_chain)
    try:
        credentials = bootstrap_demo(
            context, client_keystore_path=directory / "clients.keystore", client_passphrase="demo"
        )
        employer = next(c for c in credentials if c.role is OrganisationKind.EMPLOYER).client_id
        clients = FileKeystore.open(directory / "clients.keystore", "demo")
        key_file = directory / "employer-client.jwk"
        key_file.write_text(json.dumps(load_client_key(clients, employer)))
        with serve(create_app(settings, context=context), port) as url:
            assert url == base
            yield base, employer, key_file
    finally:
        context.close()


def _hrss(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_the_cli_offers_every_organisation_curve() -> None:
    offered = {c for c in Curve if c.value.lower() in ORGANISATION_CURVES}
    assert {JwsAlgorithm(a.value).curve for a in KeyAlgorithm} == offered


def test_keys_on_p384_p521_and_sm2_through_the_cli(
    loopback: tuple[str, str, Path], tmp_path: Path
) -> None:
    base, employer, client_key = loopback
    connection = ["--service", base, "--client-id", employer]
    registered: dict[str, str] = {}
    for curve, purpose in (
        ("p-384", "client_authentication"),
        ("p-521", "document_signing"),
        ("sm2", "document_signing"),
    ):
        path = tmp_path / f"{curve}.jwk"
        code, output = _hrss("key", "generate", str(path), "--curve", curve)
        assert code == 0, output
        public = json.loads(output)
        assert "d" not in public and "d" in json.loads(path.read_text())
        assert path.stat().st_mode & 0o777 == 0o600
        code, output = _hrss(
            "key", "register", str(path), "--purpose", purpose,
            *connection, "--key-file", str(client_key),
        )  # fmt: skip
        assert code == 0, output
        answer = json.loads(output)
        assert answer["key_id"] == public["kid"] == Jwk.from_jwk(public).thumbprint_b64()
        assert (answer["alg"], answer["purpose"]) == (public["alg"], purpose)
        registered[answer["key_id"]] = answer["alg"]
    assert sorted(registered.values()) == ["ES384", "ES512", "SM2SM3"]

    # The new P-384 client key signs the client assertion (ES384) for the listing.
    code, output = _hrss("key", "list", *connection, "--key-file", str(tmp_path / "p-384.jwk"))
    assert code == 0, output
    listed = {line.split("\t")[0]: line.split("\t")[1:3] for line in output.splitlines()}
    for key_id, alg in registered.items():
        assert listed[key_id][0] == alg

    # A key the service will not take, and a key registered twice: its refusal, exit 1.
    secp = tmp_path / "secp.jwk"
    secp.write_text(json.dumps(Jwk.generate(Curve.SECP256K1).public_jwk()))
    code, output = _hrss("key", "register", str(secp), *connection, "--key-file", str(client_key))
    assert code == 1 and "the service answered 422" in output, output
    code, output = _hrss(
        "key", "register", str(tmp_path / "sm2.jwk"), *connection, "--key-file", str(client_key)
    )
    assert code == 1 and "the service answered 409" in output, output


def test_generate_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "key.jwk"
    path.write_text("keep me")
    code, output = _hrss("key", "generate", str(path), "--curve", "p-521")
    assert code == 1 and "cannot create" in output and "File exists" in output
    assert path.read_text() == "keep me"
    code, output = _hrss("key", "generate", str(path), "--curve", "secp256k1")
    assert code == 2 and "Invalid value for '--curve'" in output
