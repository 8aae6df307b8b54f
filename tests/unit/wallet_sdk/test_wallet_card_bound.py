"""The wallet's e-card with its credentials (embedded chain): the card proof an issuer requiring
the e-card receives (``hrss-wallet credential request``) and a credential presented with the
e-card (``hrss-wallet credential present --with-card``), and what the commands refuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from node_adapter import Kind
from tests.unit.wallet_sdk.credentials.world import SKILL_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.cli import main
from wallet_sdk.credentials import issuer_uri
from wallet_sdk.credentials.card_proof import (
    ISSUANCE_PURPOSE,
    card_nonce,
    verify_card_proof,
    verify_with_card,
)
from wallet_sdk.errors import FormatError
from wallet_sdk.wallet import Wallet

MakeWallet = Callable[..., Wallet]
CARD = {
    "name": "王小明",
    "idNumber": "110105199003071239",
    "cardNumber": "B11229988",
    "issuingRegion": "110105",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}
CARD_PERSON = {"name": CARD["name"], "idNumber": CARD["idNumber"]}
AUDIENCE = "https://hr.example/hiring"


@pytest.fixture(scope="module")
def world() -> TrustWorld:
    return TrustWorld.build()


@pytest.fixture(scope="module")
def issuers(world: TrustWorld) -> tuple[DemoIssuer, DemoIssuer]:
    assessor = world.add_issuer(
        "assessor", province="beijing", region=110105, types=["VocationalSkillCertificate"]
    )
    centre = world.add_issuer(
        "centre", province="beijing", region=110000, types=["SocialSecurityCard"],
        kind=Kind.CARD_ISSUER,
    )  # fmt: skip
    return assessor, centre


def _cli(wallet: Wallet, tmp_path: Path, *args: str) -> tuple[int, str]:
    secret = tmp_path / "pass.txt"
    secret.write_text("correct horse battery staple\n")
    options = ["--wallet", str(wallet.directory), "--passphrase-file", str(secret)]
    result = CliRunner().invoke(main, [*args[:2], *options, *args[2:]])
    return result.exit_code, result.output


def test_the_card_proof_for_an_issuer_and_the_presentation_with_the_card(
    make_wallet: MakeWallet,
    world: TrustWorld,
    issuers: tuple[DemoIssuer, DemoIssuer],
    tmp_path: Path,
) -> None:
    assessor, centre = issuers
    wallet = make_wallet()
    key = wallet.credential_key
    card = world.issue(centre, "SocialSecurityCard", CARD, sd=True, holder_key=key)
    wallet.receive_credential(card.token, now=world.now())
    entity = "0x" + assessor.entity_id.hex()
    code, output = _cli(
        wallet, tmp_path, "credential", "request", "--issuer", entity, "--challenge", "c-1"
    )
    assert code == 0, output
    proof = json.loads(output)
    identity = verify_card_proof(
        world.verifier(),
        proof["presentation"],
        nonce=card_nonce(ISSUANCE_PURPOSE, proof["challenge"]),
        audience=issuer_uri(assessor.entity_id),
        require=["name", "idNumber"],
    )
    assert dict(identity.claims) == {"name": CARD["name"], "idNumber": CARD["idNumber"]}
    skill = world.issue(
        assessor, "VocationalSkillCertificate", {**SKILL_SUBJECT, **CARD_PERSON}, sd=True,
        holder_key=key, disclosable=["level", "occupationName"],
    )  # fmt: skip
    stored = wallet.receive_credential(skill.token, now=world.now())
    code, output = _cli(
        wallet, tmp_path, "credential", "present", stored.credential_id, "--with-card",
        "--disclose", "level,occupationName", "--card-disclose", "name",
        "--nonce", "n-1", "--audience", AUDIENCE,
    )  # fmt: skip
    assert code == 0, output
    bound = verify_with_card(
        world.verifier(), output.strip(), nonce="n-1", audience=AUDIENCE, expected_name="王小明"
    )
    assert bound.name_matches is True
    assert set(bound.credential.subject) >= {"level", "occupationName"}
    assert "idNumber" not in bound.credential.subject
    assert dict(bound.card.claims) == {"name": "王小明"}
    with pytest.raises(FormatError, match="one credential with the e-card"):
        wallet.present(
            [stored.credential_id] * 2, nonce="n", audience=AUDIENCE, now=world.now(),
            with_card=True,
        )  # fmt: skip


def test_without_a_card_or_with_bad_options_the_commands_refuse(
    make_wallet: MakeWallet, world: TrustWorld, tmp_path: Path
) -> None:
    wallet = make_wallet(id_number=None)
    with pytest.raises(FormatError, match="holds no e-card"):
        wallet.social_security_card()
    code, output = _cli(
        wallet, tmp_path, "credential", "request", "--issuer", "0x" + "ab" * 32,
        "--challenge", "c-2",
    )  # fmt: skip
    assert (code, output.strip()) == (
        2,
        "error: this wallet holds no e-card: activate your e-card first: "
        "hrss-wallet card activate CODE",
    )
    code, output = _cli(
        wallet, tmp_path, "credential", "request", "--issuer", "0x1234", "--challenge", "c-2"
    )
    assert code == 2 and "is not a urn:hrss:entity identifier" in output
    code, output = _cli(
        wallet, tmp_path, "credential", "present", "some-id", "--card-disclose", "name",
        "--nonce", "n", "--audience", AUDIENCE,
    )  # fmt: skip
    assert (code, output.strip()) == (2, "error: --card-disclose goes with --with-card")
