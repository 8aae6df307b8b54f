"""The one curve -> JOSE algorithm -> TrustRegistry code table, and reading registered keys.

The codes are the contract's wire format (``TrustRegistry.ALG_*``, pinned against the deployed
contract in ``tests/unit/contracts/test_trust_registry.py``); ``node_adapter.KeyAlgorithm`` and
the service's organisation ``KeyAlgorithm`` must name the same algorithms.
"""

from __future__ import annotations

import pytest

from credential_service.models import KeyAlgorithm as OrganisationKeyAlgorithm
from node_adapter import KeyAlgorithm as ChainKeyAlgorithm
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import SIGNING_ALGORITHMS, Curve, Jwk, JwsAlgorithm

CODES = {
    Curve.ED25519: 1,
    Curve.P256: 2,
    Curve.SECP256K1: 3,
    Curve.P384: 4,
    Curve.P521: 5,
    Curve.SM2: 6,
}
POINT_LENGTHS = {
    Curve.P256: 65,
    Curve.SECP256K1: 65,
    Curve.SM2: 65,
    Curve.P384: 97,
    Curve.P521: 133,
}


def test_every_curve_has_its_pinned_registry_code() -> None:
    assert {curve: curve.registry_code for curve in Curve} == CODES
    for curve, code in CODES.items():
        assert Curve.from_registry_code(code) is curve


def test_the_adapter_enum_names_each_code_by_its_jose_algorithm() -> None:
    assert {member.value for member in ChainKeyAlgorithm} == set(CODES.values())
    for curve in Curve:
        assert ChainKeyAlgorithm(curve.registry_code).name == curve.algorithm.name


def test_each_algorithm_has_exactly_one_curve() -> None:
    for curve in Curve:
        assert curve.algorithm.curve is curve
    assert {alg.curve for alg in JwsAlgorithm} == set(Curve)


def test_organisation_keys_take_the_signing_algorithms() -> None:
    assert {JwsAlgorithm(a.value) for a in OrganisationKeyAlgorithm} == SIGNING_ALGORITHMS
    assert JwsAlgorithm.ES256K not in SIGNING_ALGORITHMS


@pytest.mark.parametrize("code", [0, 7, 255, -1, "1", None, 1.0, True])
def test_unknown_codes_are_refused(code: object) -> None:
    with pytest.raises(FormatError, match="is not supported"):
        Curve.from_registry_code(code)  # type: ignore[arg-type]


@pytest.mark.parametrize("curve", list(Curve))
def test_registered_bytes_round_trip(curve: Curve) -> None:
    key = Jwk.generate(curve)
    loaded = Jwk.from_public_bytes(curve, key.raw_public_key(), kid="k")
    assert loaded.public_jwk() == key.public().with_kid("k").public_jwk()
    assert not loaded.has_private
    assert loaded.thumbprint() == key.thumbprint()


@pytest.mark.parametrize(("curve", "length"), sorted(POINT_LENGTHS.items()))
def test_registered_points_of_the_wrong_shape_are_refused(curve: Curve, length: int) -> None:
    raw = Jwk.generate(curve).raw_public_key()
    assert len(raw) == length
    for bad in (raw[:-1], raw + b"\x00", b"\x02" + raw[1:], b"\x02" + raw[1 : 1 + length // 2]):
        with pytest.raises(FormatError, match=f"{length}-byte uncompressed point"):
            Jwk.from_public_bytes(curve, bad)


@pytest.mark.parametrize("curve", sorted(POINT_LENGTHS))
def test_a_point_off_the_curve_is_refused(curve: Curve) -> None:
    raw = bytearray(Jwk.generate(curve).raw_public_key())
    raw[-1] ^= 1
    with pytest.raises(FormatError, match=f"not a valid {curve} public key"):
        Jwk.from_public_bytes(curve, bytes(raw))


def test_an_ed25519_key_is_32_bytes() -> None:
    raw = Jwk.generate(Curve.ED25519).raw_public_key()
    with pytest.raises(FormatError, match="32 bytes"):
        Jwk.from_public_bytes(Curve.ED25519, raw + b"\x00")
    with pytest.raises(FormatError, match="32 bytes"):
        Jwk.from_public_bytes(Curve.ED25519, b"\x04" + raw)
