"""Credential issuance, status, issuer signing keys and verification reports: the domain
service over `wallet_sdk.credentials` (formats and the verification pipeline) and
`node_adapter` (TrustRegistry, StatusRegistry). No HTTP here."""
