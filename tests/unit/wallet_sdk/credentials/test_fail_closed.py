"""Whatever the input, verification raises only `CredentialVerificationError` (or returns a
failed report), never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.wallet_sdk.credentials import forge
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import (
    CredentialVerificationError,
    CredentialVerifier,
    TrainingFile,
    present_vc_jwt,
)
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, Jwk, b64url_encode

segments = st.text(
    alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~{}"', max_size=300
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.one_of(segments, st.binary(max_size=64).map(lambda b: b.decode("latin-1"))))
def test_garbage_credentials_fail_closed(verifier: CredentialVerifier, token: str) -> None:
    report = verifier.verify_credential(token, strict=False)
    assert not report.passed
    with pytest.raises(CredentialVerificationError):
        verifier.verify_credential(token)
    with pytest.raises(CredentialVerificationError):
        verifier.verify_presentation(token, nonce="n", audience="a")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(
        st.sampled_from(
            [
                "@context",
                "type",
                "issuer",
                "id",
                "iat",
                "credentialSubject",
                "credentialStatus",
                "cnf",
                "validFrom",
                "exp",
                "nbf",
            ]
        ),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=20),
            st.lists(st.text(max_size=5), max_size=3),
            st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        ),
    )
)
def test_signed_garbage_payloads_fail_closed(
    verifier: CredentialVerifier, school: DemoIssuer, payload: dict
) -> None:  # type: ignore[type-arg]
    token = forge.sign(
        {"alg": "EdDSA", "typ": "vc+jwt", "kid": school.key.thumbprint_b64()}, payload, school.key
    )
    with pytest.raises(CredentialVerificationError):
        verifier.verify_credential(token)


def test_non_canonical_base64_fails_format(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    head, body, signature = issued.token.split(".")
    # Flip unused low bits of the final signature character: same bytes, different text.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    tweaked = signature[:-1] + alphabet[last | 0b1111 if len(signature) % 4 == 2 else last | 0b11]
    assert tweaked != signature
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(f"{head}.{body}.{tweaked}", as_of=world.now())
    assert err.value.check == "format" and "base64url" in err.value.message


def test_vp_of_a_credential_without_holder_key_fails_holder_binding(
    world: TrustWorld, school: DemoIssuer, verifier: CredentialVerifier
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    vp = present_vc_jwt(
        [issued.token],
        holder_key=Jwk.generate(Curve.ED25519),
        nonce="n",
        audience="a",
        issued_at=world.now(),
    )
    verifier.trust.refresh()  # type: ignore[attr-defined]
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_presentation(vp, nonce="n", audience="a", as_of=world.now())
    assert err.value.check == "holder_binding" and "no holder key" in err.value.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        '{"format": "x"}',
        '{"format": "hrss-training-file/1", "entries": 3}',
        '{"format": "hrss-training-file/1", "file": "f", "entries": [1]}',
    ],
)
def test_training_file_parse_fails_closed(text: str) -> None:
    with pytest.raises(FormatError):
        TrainingFile.parse(text)
    assert b64url_encode(b"") == ""
