"""A wallet in the national profile presents with its SM2 credential key, on the embedded
chain: SD-JWT and ``vp+jwt`` presentations and e-card proofs verify, each key binding in
``SM2SM3``; a binding in another algorithm than the holder key's (an ``EdDSA`` header on an
SM2-bound card) and an SM2 holder where the verifier allows only ``EdDSA`` are refused at
``holder_binding``. (A grant's e-card identity proof with an SM2 key:
``test_consent_identity_proof``.)"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.unit.wallet_sdk.credentials.test_card_proof import SUBJECT as CARD_SUBJECT
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import CredentialVerificationError
from wallet_sdk.credentials.card_proof import card_nonce, present_card, verify_card_proof
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm, b64url_decode
from wallet_sdk.wallet import Wallet

AUDIENCE = "https://hrss.example/verifier"


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.create(tmp_path / "w", "passphrase", scrypt_n=2**10, profile="national")


def _card(world: TrustWorld, centre: DemoIssuer, holder: Jwk) -> Any:
    return world.issue(centre, "SocialSecurityCard", CARD_SUBJECT, sd=True, holder_key=holder)


def _binding_alg(presentation: str) -> str:
    binding = presentation.rsplit("~", 1)[-1] if "~" in presentation else presentation
    alg: str = json.loads(b64url_decode(binding.split(".")[0]))["alg"]
    return alg


def test_sd_jwt_and_vp_jwt_presentations_of_a_national_wallet_verify(
    world: TrustWorld, school: DemoIssuer, wallet: Wallet
) -> None:
    holder = wallet.credential_key.public()
    sd = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, sd=True, holder_key=holder)
    vc = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=holder)
    sd_id = wallet.receive_credential(sd.token, now=world.now()).credential_id
    vc_id = wallet.receive_credential(vc.token, now=world.now()).credential_id
    now = int(time.time())
    verifier = world.verifier()
    for chosen, disclose in (([sd_id], ["name"]), ([vc_id], [])):
        presentation = wallet.present(
            chosen, nonce="n-1", audience=AUDIENCE, now=now, disclose=disclose
        )
        assert _binding_alg(presentation) == "SM2SM3"
        report = verifier.verify_presentation(
            presentation, nonce="n-1", audience=AUDIENCE, as_of=world.now()
        )
        assert report.passed, report.first_failure


def test_an_e_card_proof_with_an_sm2_holder_key_shows_the_identity(
    world: TrustWorld, card_centre: DemoIssuer, wallet: Wallet
) -> None:
    card = _card(world, card_centre, wallet.credential_key.public())
    wallet.receive_credential(card.token, now=world.now())
    proof = wallet.prove_card(
        purpose="login", challenge="c-1", audience=AUDIENCE, disclose=["name"], now=world.now()
    )
    assert _binding_alg(proof) == "SM2SM3"
    identity = verify_card_proof(
        world.verifier(),
        proof,
        nonce=card_nonce("login", "c-1"),
        audience=AUDIENCE,
        require=["name"],
    )
    assert identity.holder_thumbprint == wallet.credential_key.thumbprint()
    assert dict(identity.claims) == {"name": "张三"}


def test_an_eddsa_binding_of_an_sm2_bound_card_is_refused(
    world: TrustWorld, card_centre: DemoIssuer, wallet: Wallet
) -> None:
    card = _card(world, card_centre, wallet.credential_key.public())
    nonce = card_nonce("login", "c-2")
    forged = present_card(
        card.token,
        holder_key=Jwk.generate(Curve.ED25519),
        disclose=[],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    assert _binding_alg(forged) == "EdDSA"
    with pytest.raises(VerificationError) as caught:
        verify_card_proof(world.verifier(), forged, nonce=nonce, audience=AUDIENCE)
    assert caught.value.check == "holder_binding"
    assert "alg 'EdDSA' is not the holder key's SM2SM3" in str(caught.value)


def test_an_sm2_holder_is_refused_where_only_eddsa_is_allowed(
    world: TrustWorld, card_centre: DemoIssuer, school: DemoIssuer, wallet: Wallet
) -> None:
    holder = wallet.credential_key.public()
    card = _card(world, card_centre, holder)
    nonce = card_nonce("login", "c-3")
    proof = present_card(
        card.token,
        holder_key=wallet.credential_key,
        disclose=[],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    eddsa_only = world.verifier(algorithms=frozenset({JwsAlgorithm.EDDSA}))
    with pytest.raises(VerificationError) as caught:
        verify_card_proof(eddsa_only, proof, nonce=nonce, audience=AUDIENCE)
    assert caught.value.check == "holder_binding"
    assert "holder key algorithm SM2SM3 is not allowed" in str(caught.value)
    diploma = world.issue(
        school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, sd=True, holder_key=holder
    )
    wallet.receive_credential(diploma.token, now=world.now())
    presentation = wallet.present(
        [wallet.credentials()[-1].credential_id], nonce="n", audience=AUDIENCE, now=world.now()
    )
    eddsa_only.trust.refresh()  # type: ignore[attr-defined]  # sees the diploma's status
    with pytest.raises(CredentialVerificationError) as refused:
        eddsa_only.verify_presentation(
            presentation, nonce="n", audience=AUDIENCE, as_of=world.now()
        )
    assert refused.value.check == "holder_binding"
