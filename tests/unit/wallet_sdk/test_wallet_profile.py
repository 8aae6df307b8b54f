"""A wallet's cryptographic profile (`wallet_sdk.profile`): the national profile makes an SM2
credential key and seals with SM4-GCM, the international one is as before; every signature the
credential key makes (document digests, e-card activation) verifies in its own algorithm, and
the verifiers accept both profiles' keys and nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wallet_sdk.card_activation import (
    ACTIVATION_PROOF_TYP,
    create_activation_proof,
    verify_activation_proof,
)
from wallet_sdk.cli import main
from wallet_sdk.consent import address_of_public_key
from wallet_sdk.errors import FormatError, KeystoreError, VerificationError
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm, b64url_decode, b64url_encode, sign_compact
from wallet_sdk.keystore import Keystore
from wallet_sdk.profile import HOLDER_ALGORITHMS, WalletProfile
from wallet_sdk.wallet import DIGEST_SIGNATURE_TYP, Wallet, did_jwk, verify_digest_signature

NOW = 1_800_000_000
DIGEST = bytes(range(32))
_SM2_P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)


def _wallet(tmp_path: Path, profile: str = "national", name: str = "w") -> Wallet:
    return Wallet.create(tmp_path / name, "passphrase", scrypt_n=2**10, profile=profile)


def _header(token: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(b64url_decode(token.split(".")[0]))
    return header


def _did_members(did: str) -> dict[str, Any]:
    members: dict[str, Any] = json.loads(b64url_decode(did.removeprefix("did:jwk:")))
    return members


# -- the profile ---------------------------------------------------------------------------


def test_the_holder_algorithms_are_the_profiles_credential_key_algorithms() -> None:
    assert HOLDER_ALGORITHMS == {JwsAlgorithm.EDDSA, JwsAlgorithm.SM2SM3}
    assert WalletProfile.of_curve(Curve.SM2) is WalletProfile.NATIONAL
    assert WalletProfile.of_curve(Curve.ED25519) is WalletProfile.INTERNATIONAL
    with pytest.raises(FormatError, match="no wallet profile has P-256 credential keys"):
        WalletProfile.of_curve(Curve.P256)


def test_an_unknown_profile_is_refused_naming_the_profiles(tmp_path: Path) -> None:
    with pytest.raises(
        FormatError, match="unknown profile 'gm'; profiles: international, national"
    ):
        _wallet(tmp_path, "gm")
    assert not (tmp_path / "w").exists()


def test_a_national_wallet_has_an_sm2_did_and_seals_everything_with_sm4(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    assert wallet.profile is WalletProfile.NATIONAL
    assert wallet.credential_key.curve is Curve.SM2
    assert _did_members(wallet.did) == {
        k: v for k, v in wallet.credential_key.public_jwk().items() if k in ("crv", "kty", "x", "y")
    }
    assert _did_members(wallet.did)["crv"] == "SM2"
    # the on-chain holder account stays secp256k1 (ecrecover on ConsentRegistry)
    assert wallet.holder_public_key.curve is Curve.SECP256K1
    keystore = json.loads((wallet.directory / "keystore.json").read_text())
    assert keystore["check"]["cipher"] == "SM4-GCM"
    assert [entry["cipher"] for entry in keystore["keys"]] == ["SM4-GCM"] * 3
    store = json.loads((wallet.directory / "store.json").read_text())
    assert store["cipher"] == "SM4-GCM"

    reopened = Wallet.open(wallet.directory, "passphrase")
    assert reopened.profile is WalletProfile.NATIONAL
    assert reopened.did == wallet.did and reopened.address == wallet.address


def test_an_international_wallet_is_written_as_before_sm4(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path, "international")
    assert wallet.profile is WalletProfile.INTERNATIONAL
    assert _did_members(wallet.did)["crv"] == "Ed25519"
    keystore = json.loads((wallet.directory / "keystore.json").read_text())
    store = json.loads((wallet.directory / "store.json").read_text())
    assert "cipher" not in keystore["check"] and "cipher" not in store
    assert all("cipher" not in entry for entry in keystore["keys"])
    assert Wallet.open(wallet.directory, "passphrase").profile is WalletProfile.INTERNATIONAL
    default = Wallet.create(tmp_path / "default", "passphrase", scrypt_n=2**10)
    assert default.profile is WalletProfile.INTERNATIONAL


def test_a_national_store_relabelled_as_aes_does_not_open(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    path = wallet.directory / "store.json"
    store = json.loads(path.read_text())
    del store["cipher"]
    path.write_text(json.dumps(store))
    with pytest.raises(KeystoreError, match="cannot be read or was tampered with"):
        Wallet.open(wallet.directory, "passphrase")


def test_a_national_keystore_check_relabelled_as_aes_does_not_open(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    path = wallet.directory / "keystore.json"
    keystore = json.loads(path.read_text())
    del keystore["check"]["cipher"]
    path.write_text(json.dumps(keystore))
    with pytest.raises(KeystoreError, match="wrong passphrase or corrupted keystore"):
        Wallet.open(wallet.directory, "passphrase")


def test_a_credential_bound_to_the_mirrored_sm2_point_is_not_this_wallets(tmp_path: Path) -> None:
    # The same x with the other y is another key: binding is checked on the whole key.
    wallet = _wallet(tmp_path)
    mine = wallet.credential_key.public().with_kid(None).public_jwk()
    y = int.from_bytes(b64url_decode(mine["y"]), "big")
    mirrored = {**mine, "y": b64url_encode((_SM2_P - y).to_bytes(32, "big"))}
    Jwk.from_jwk(mirrored)  # a valid point, only not this wallet's
    issuer = Jwk.generate(Curve.SM2)
    for bound, accepted in ((mirrored, False), (mine, True)):
        token = sign_compact(
            json.dumps({"iss": "did:example:issuer", "cnf": {"jwk": bound}}).encode(), issuer
        )
        if accepted:
            assert wallet.receive_credential(token, now=NOW).format == "vc+jwt"
        else:
            with pytest.raises(FormatError, match="bound to another holder key"):
                wallet.receive_credential(token, now=NOW)


# -- document digest signatures -------------------------------------------------------------


def test_a_national_wallet_signs_digests_with_sm2sm3(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    signed = wallet.sign_digest(DIGEST, now=NOW)
    assert _header(signed.jws)["alg"] == "SM2SM3"
    verified = verify_digest_signature(signed.jws, digest=DIGEST, signer=wallet.did)
    assert verified.signer == wallet.did
    international = _wallet(tmp_path, "international", "ed")
    ed_signed = international.sign_digest(DIGEST, now=NOW)
    assert _header(ed_signed.jws)["alg"] == "EdDSA"
    verify_digest_signature(ed_signed.jws, digest=DIGEST, signer=international.did)


def _resigned(jws: str, key: Jwk) -> str:
    """The claims and header of `jws` signed again by `key` (its own algorithm)."""
    header = {k: v for k, v in _header(jws).items() if k != "alg"}
    return sign_compact(b64url_decode(jws.split(".")[1]), key, headers=header)


def test_a_digest_signature_in_another_algorithm_than_the_signers_key_is_refused(
    tmp_path: Path,
) -> None:
    national, international = _wallet(tmp_path), _wallet(tmp_path, "international", "ed")
    sm2_jws = national.sign_digest(DIGEST, now=NOW).jws
    # an EdDSA header on the SM2 signer's claims: refused before any signature check
    forged = _resigned(sm2_jws, international.credential_key)
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature(forged, digest=DIGEST, signer=national.did)
    assert caught.value.check == "algorithm" and "'EdDSA' is not in the allowlist" in str(
        caught.value
    )
    # an SM2 signature where the signer's key is Ed25519
    ed_jws = international.sign_digest(DIGEST, now=NOW).jws
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature(
            _resigned(ed_jws, national.credential_key), digest=DIGEST, signer=international.did
        )
    assert caught.value.check == "algorithm" and "'SM2SM3' is not in the allowlist" in str(
        caught.value
    )
    # an SM2 signature by another SM2 key
    other = Jwk.generate(Curve.SM2)
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature(_resigned(sm2_jws, other), digest=DIGEST, signer=national.did)
    assert caught.value.check == "signature"


@pytest.mark.parametrize("curve", [Curve.P256, Curve.SECP256K1])
def test_a_digest_signer_whose_key_no_wallet_makes_is_refused(curve: Curve) -> None:
    key = Jwk.generate(curve)
    did = did_jwk(key)
    jws = sign_compact(
        json.dumps({"iss": did, "digest": DIGEST.hex()}).encode(),
        key,
        headers={"typ": DIGEST_SIGNATURE_TYP},
    )
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature(jws, digest=DIGEST, signer=did)
    assert caught.value.check == "key"
    assert "a public Ed25519 or SM2 key" in str(caught.value)


def test_a_digest_signer_did_carrying_a_private_key_is_refused(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    private = wallet.credential_key.private_jwk()
    did = "did:jwk:" + b64url_encode(json.dumps(private).encode())
    with pytest.raises(VerificationError) as caught:
        verify_digest_signature(wallet.sign_digest(DIGEST, now=NOW).jws, digest=DIGEST, signer=did)
    assert caught.value.check == "key"


# -- e-card activation ---------------------------------------------------------------------


def test_a_national_wallets_activation_proof_binds_its_sm2_key(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    proof = wallet.card_activation_proof("ABCD2345EFGH", now=NOW)
    assert _header(proof)["alg"] == "SM2SM3"
    verified = verify_activation_proof(proof, now=NOW)
    assert verified.holder_key.thumbprint() == wallet.credential_key.thumbprint()
    assert verified.holder_key.curve is Curve.SM2
    assert verified.holder_address == address_of_public_key(wallet.holder_public_key)


def test_an_activation_proof_under_an_sm2_cnf_signed_eddsa_is_refused(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    claims = json.loads(b64url_decode(wallet.card_activation_proof("CODE", now=NOW).split(".")[1]))
    forged = sign_compact(
        json.dumps(claims).encode(),
        Jwk.generate(Curve.ED25519),
        headers={"typ": ACTIVATION_PROOF_TYP},
        include_kid=False,
    )
    with pytest.raises(VerificationError) as caught:
        verify_activation_proof(forged, now=NOW)
    assert caught.value.check == "algorithm"


def test_an_activation_proof_by_a_key_no_wallet_makes_is_refused() -> None:
    p256 = Jwk.generate(Curve.P256)
    with pytest.raises(FormatError, match="private Ed25519 or SM2 credential key"):
        create_activation_proof("CODE", key=p256, now=NOW)
    with pytest.raises(FormatError, match="private Ed25519 or SM2 credential key"):
        create_activation_proof("CODE", key=Jwk.generate(Curve.SM2).public(), now=NOW)
    claims = {
        "iss": "urn:hrss:wallet",
        "aud": "urn:hrss:card-activation",
        "code": "CODE",
        "iat": NOW,
        "exp": NOW + 60,
        "cnf": {"jwk": p256.public().public_jwk()},
    }
    token = sign_compact(
        json.dumps(claims).encode(), p256, headers={"typ": ACTIVATION_PROOF_TYP}, include_kid=False
    )
    with pytest.raises(VerificationError) as caught:
        verify_activation_proof(token, now=NOW)
    assert caught.value.check == "key" and "Ed25519 or SM2" in str(caught.value)


# -- the command line ------------------------------------------------------------------------


def _init(tmp_path: Path, *args: str, env: dict[str, str | None] | None = None) -> Any:
    secret = tmp_path / "pass.txt"
    secret.write_text("passphrase\n")
    wallet = ["--wallet", str(tmp_path / "cli"), "--passphrase-file", str(secret)]
    return CliRunner().invoke(main, ["init", *wallet, "--scrypt-n", "1024", *args], env=env)


def test_init_makes_a_national_wallet_with_the_option(tmp_path: Path) -> None:
    result = _init(tmp_path, "--profile", "national", env={"HRSS_CRYPTO_PROFILE": "international"})
    assert result.exit_code == 0, result.output
    identity = json.loads(result.output)
    assert identity["profile"] == "national"
    assert _did_members(identity["did"])["crv"] == "SM2"
    assert Wallet.open(tmp_path / "cli", "passphrase").profile is WalletProfile.NATIONAL


def test_init_follows_the_deployment_profile_from_the_environment(tmp_path: Path) -> None:
    result = _init(tmp_path, env={"HRSS_CRYPTO_PROFILE": "national"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["profile"] == "national"


def test_init_defaults_to_international_and_refuses_an_unknown_profile(tmp_path: Path) -> None:
    refused = _init(tmp_path, "--profile", "gm")
    assert refused.exit_code == 2 and "'gm' is not one of" in refused.output
    result = _init(tmp_path, env={"HRSS_CRYPTO_PROFILE": None})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["profile"] == "international"


def test_keystore_create_seals_its_check_with_the_profiles_cipher(tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("passphrase\n")
    for profile, cipher in (("national", "SM4-GCM"), ("international", None)):
        path = tmp_path / f"{profile}.json"
        args = ["keystore", "create", str(path), "--profile", profile]
        result = CliRunner().invoke(main, [*args, "--passphrase-file", str(secret)])
        assert result.exit_code == 0, result.output
        assert json.loads(path.read_text())["check"].get("cipher") == cipher
        Keystore.load(path, "passphrase")  # opens, the check verified
