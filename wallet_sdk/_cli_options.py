"""Click options shared by the ``hrss-wallet`` commands of `wallet_sdk.cli` and
`wallet_sdk._wallet_cli`."""

from __future__ import annotations

import click

from wallet_sdk.profile import WalletProfile

__all__ = ["profile_option"]

profile_option = click.option(
    "--profile",
    type=click.Choice([profile.value for profile in WalletProfile]),
    envvar="HRSS_CRYPTO_PROFILE",
    default=WalletProfile.INTERNATIONAL.value,
    show_default=True,
    help="Cryptographic profile: national makes SM2 keys sealed with SM4-GCM "
    "(environment: HRSS_CRYPTO_PROFILE).",
)
