"""Credentials in the wallet: received only when bound to its key, verified against the chain,
presented with chosen disclosures, nonce and audience."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.unit.wallet_sdk.credentials.world import (
    SKILL_SUBJECT,
    DemoIssuer,
    TrustWorld,
    training_subject,
)
from wallet_sdk.cli import main
from wallet_sdk.credentials import (
    CredentialVerificationError,
    FileVerdict,
    TrainingFile,
    TrainingFilePresentation,
    disclosed_claim_names,
    verify_training_file,
)
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.wallet import Wallet

MakeWallet = Callable[..., Wallet]
AUDIENCE = "https://rsj.sh.example/verify"


@pytest.fixture(scope="module")
def world() -> TrustWorld:
    return TrustWorld.build()


@pytest.fixture(scope="module")
def assessor(world: TrustWorld) -> DemoIssuer:
    return world.add_issuer(
        "assessor", province="guangdong", region=440300, types=["VocationalSkillCertificate"]
    )


def _issue(world: TrustWorld, assessor: DemoIssuer, holder: Jwk, *, sd: bool) -> str:
    extra = {"disclosable": ["level", "occupationCode"]} if sd else {}
    issued = world.issue(
        assessor, "VocationalSkillCertificate", SKILL_SUBJECT, sd=sd, holder_key=holder, **extra
    )
    return issued.token


def test_sd_jwt_presentation_with_chosen_disclosures(
    make_wallet: MakeWallet, world: TrustWorld, assessor: DemoIssuer
) -> None:
    wallet = make_wallet(id_number=None)
    token = _issue(world, assessor, wallet.credential_key, sd=True)
    stored = wallet.receive_credential(token, format="vc+sd-jwt", now=world.now())
    verifier = world.verifier()
    assert wallet.verify_credential(stored.credential_id, verifier=verifier, as_of=world.now())
    presentation = wallet.present(
        [stored.credential_id], nonce="n-1", audience=AUDIENCE, now=int(time.time()),
        disclose=["level"],
    )  # fmt: skip
    assert disclosed_claim_names(presentation.rsplit("~", 1)[0] + "~") == ["level"]
    report = verifier.verify_presentation(
        presentation, nonce="n-1", audience=AUDIENCE, as_of=world.now()
    )
    assert report is not None
    with pytest.raises(CredentialVerificationError):
        verifier.verify_presentation(
            presentation, nonce="n-2", audience=AUDIENCE, as_of=world.now()
        )


def test_vc_jwt_presentation(
    make_wallet: MakeWallet, world: TrustWorld, assessor: DemoIssuer
) -> None:
    wallet = make_wallet(id_number=None)
    token = _issue(world, assessor, wallet.credential_key, sd=False)
    stored = wallet.receive_credential(token, format="vc+jwt", now=world.now())
    presentation = wallet.present(
        [stored.credential_id], nonce="n-9", audience=AUDIENCE, now=int(time.time())
    )
    world.verifier().verify_presentation(
        presentation, nonce="n-9", audience=AUDIENCE, as_of=world.now()
    )


def test_credential_for_another_holder_is_refused(
    make_wallet: MakeWallet, world: TrustWorld, assessor: DemoIssuer
) -> None:
    token = _issue(world, assessor, Jwk.generate(Curve.ED25519), sd=True)
    with pytest.raises(FormatError, match="another holder key"):
        make_wallet(id_number=None).receive_credential(token, format="vc+sd-jwt", now=world.now())


def test_credentials_are_kept_sealed_and_removed(
    make_wallet: MakeWallet, world: TrustWorld, assessor: DemoIssuer
) -> None:
    wallet = make_wallet(id_number=None)
    token = _issue(world, assessor, wallet.credential_key, sd=False)
    stored = wallet.receive_credential(token, format="vc+jwt", now=world.now())
    assert Wallet.open(wallet.directory, "correct horse battery staple").credentials() == (stored,)
    assert SKILL_SUBJECT["idNumber"].encode() not in (wallet.directory / "store.json").read_bytes()
    with pytest.raises(FormatError, match="already"):
        wallet.receive_credential(token, format="vc+jwt", now=world.now())
    with pytest.raises(FormatError, match="vc"):
        wallet.receive_credential(token, format="mdoc", now=world.now())
    with pytest.raises(FormatError, match="readable"):
        wallet.receive_credential("garbage", format="vc+jwt", now=world.now())
    wallet.remove_credential(stored.credential_id)
    assert wallet.credentials() == ()
    with pytest.raises(FormatError, match="no credential"):
        wallet.present([stored.credential_id], nonce="n", audience=AUDIENCE, now=1)


@pytest.mark.parametrize("sd", [True, False])
def test_the_format_is_read_from_the_token(
    make_wallet: MakeWallet, world: TrustWorld, assessor: DemoIssuer, sd: bool
) -> None:
    wallet = make_wallet(id_number=None)
    token = _issue(world, assessor, wallet.credential_key, sd=sd)
    stored = wallet.receive_credential(token, now=world.now())
    assert stored.format == ("vc+sd-jwt" if sd else "vc+jwt")
    wallet.present([stored.credential_id], nonce="n", audience=AUDIENCE, now=int(time.time()))


def test_a_format_the_token_contradicts_is_refused_by_name(
    make_wallet: MakeWallet, world: TrustWorld, assessor: DemoIssuer
) -> None:
    wallet = make_wallet(id_number=None)
    token = _issue(world, assessor, wallet.credential_key, sd=True)
    with pytest.raises(FormatError, match="the token is a vc\\+sd-jwt credential, not vc\\+jwt"):
        wallet.receive_credential(token, format="vc+jwt", now=world.now())
    with pytest.raises(FormatError, match="allowed: vc\\+jwt, vc\\+sd-jwt"):
        wallet.receive_credential(token, format="mdoc", now=world.now())


def test_credential_commands_read_the_format_and_remove(
    make_wallet: MakeWallet, world: TrustWorld, assessor: DemoIssuer, tmp_path: Path
) -> None:
    wallet = make_wallet(id_number=None)
    secret = tmp_path / "pass.txt"
    secret.write_text("correct horse battery staple\n")
    token_file = tmp_path / "credential.txt"
    token_file.write_text(_issue(world, assessor, wallet.credential_key, sd=True))
    options = ["--wallet", str(wallet.directory), "--passphrase-file", str(secret)]
    runner = CliRunner()
    received = runner.invoke(main, ["credential", "receive", *options, str(token_file)])
    assert received.exit_code == 0, received.output
    credential_id = received.output.strip()
    listing = runner.invoke(main, ["credential", "list", *options]).output
    assert f"{credential_id}\tvc+sd-jwt" in listing
    presented = runner.invoke(
        main,
        [
            *("credential", "present", *options, credential_id),
            *("--nonce", "n-8", "--audience", AUDIENCE, "--disclose", "level"),
        ],
    )
    assert presented.exit_code == 0, presented.output
    world.verifier().verify_presentation(
        presented.output.strip(), nonce="n-8", audience=AUDIENCE, as_of=world.now()
    )
    removed = runner.invoke(main, ["credential", "remove", *options, credential_id])
    assert removed.exit_code == 0, removed.output
    assert credential_id not in runner.invoke(main, ["credential", "list", *options]).output
    again = runner.invoke(main, ["credential", "remove", *options, credential_id])
    assert again.exit_code == 2
    assert f"no credential {credential_id}" in again.output


def test_training_file_commands(make_wallet: MakeWallet, world: TrustWorld, tmp_path: Path) -> None:
    """The wallet names its file for the institution, then presents the file it keeps; the
    presentation verifies as the holder's, and not for another nonce."""
    school = world.add_issuer(
        "training-school", province="beijing", region=110105, types=["TrainingRecord"]
    )
    wallet = make_wallet(id_number=None)
    secret = tmp_path / "pass.txt"
    secret.write_text("correct horse battery staple\n")
    options = ["--wallet", str(wallet.directory), "--passphrase-file", str(secret)]
    runner = CliRunner()
    named = runner.invoke(main, ["training-file", "id", *options])
    assert named.exit_code == 0, named.output
    training_file = TrainingFile(named.output.strip())
    issued = world.issue(
        school,
        "TrainingRecord",
        training_subject("电工", 16, "2026-01-31"),
        holder_key=wallet.credential_key,
        extra_claims={"trainingFile": training_file.next_link().to_claim()},
    )
    stored = tmp_path / "training-file.json"
    stored.write_text(training_file.append(issued.token).to_json())
    presented = runner.invoke(
        main,
        [*("training-file", "present", *options, str(stored)), "--nonce", "n-9",
         "--audience", AUDIENCE, "--now", str(int(time.time()))],
    )  # fmt: skip
    assert presented.exit_code == 0, presented.output
    presentation = TrainingFilePresentation.parse(presented.output)
    verifier = world.verifier()
    report = verify_training_file(presentation, verifier, nonce="n-9", audience=AUDIENCE)
    assert report.verdict is FileVerdict.VERIFIED and report.verified_hours == 16
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(presentation, verifier, nonce="other", audience=AUDIENCE)
    assert err.value.check == "holder_binding"
    missing = runner.invoke(
        main,
        ["training-file", "present", *options, str(secret), "--nonce", "n", "--audience", "a"],
    )
    assert missing.exit_code == 2 and "training file is not valid JSON" in missing.output
