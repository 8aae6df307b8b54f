"""The electronic social security card (电子社保卡): one-time activations requested by card
issuers and redeemed by wallets, and the one active e-card per person."""
