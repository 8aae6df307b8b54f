"""The credential tests' chain and card centre for the consent identity-proof tests still in
this folder (branch `formats` moves them to tests/unit/wallet_sdk/consent/, after which this
folder can go): the fixtures live in tests/unit/wallet_sdk/credentials/conftest.py."""

from tests.unit.wallet_sdk.credentials.conftest import card_centre, world  # noqa: F401  (fixtures)
