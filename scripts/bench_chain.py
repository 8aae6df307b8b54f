"""Gas of the registry writes on the hot paths (gas is deterministic, so one run is exact).

Measured on the in-process EVM with the committed artifacts; the same bytecode costs the same
gas on anvil and Besu (zero gas price changes the fee, never the gas used).
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from node_adapter import (
    Chain,
    ConsentGrant,
    CredentialStatus,
    Kind,
    Signer,
    deploy_registries,
)

MINISTRY_REGION = 100000
PROVINCE_REGION = 440000
ISSUER_REGION = 440100


def _entity(label: str) -> bytes:
    return keccak(text=f"hrss:bench:{label}")


def _value(label: str) -> bytes:
    # Fixed inputs, so the calldata (and with it the gas) is the same on every run.
    return keccak(text=f"hrss:bench:value:{label}")


def run() -> list[dict[str, Any]]:
    """Deploy the registries on a fresh in-process chain and measure one call of each write."""
    chain = Chain.embedded()
    deployer, ministry, province, issuer, data_user, relayer = chain.dev_signers(6)
    deployment = deploy_registries(
        chain,
        deployer=deployer,
        ministry_id=_entity("ministry"),
        ministry_region=MINISTRY_REGION,
        ministry_controller=ministry.address,
    )
    c = deployment.clients(chain)
    c.trust_registry.accredit(
        ministry,
        id=_entity("province"),
        kind=Kind.PROVINCE,
        region=PROVINCE_REGION,
        parent=_entity("ministry"),
        controllers=[province.address],
    )
    c.trust_registry.accredit(
        province,
        id=_entity("issuer"),
        kind=Kind.ISSUER,
        region=ISSUER_REGION,
        parent=_entity("province"),
        controllers=[issuer.address],
    )
    c.trust_registry.accredit(
        province,
        id=_entity("data-user"),
        kind=Kind.DATA_USER,
        region=ISSUER_REGION,
        parent=_entity("province"),
        controllers=[data_user.address],
    )
    c.trust_registry.set_anchoring_account(
        issuer, id=_entity("issuer"), account=issuer.address, enabled=True
    )

    anchor = c.anchor_registry.anchor(
        issuer, root=_value("root"), leaf_count=100_000, batch_ref=_value("batch")
    )
    ids = [_value(f"credential-{i}") for i in range(100)]
    digests = [_value(f"digest-{i}") for i in range(100)]
    register_one = c.status_registry.register(
        issuer, issuer=_entity("issuer"), credential_ids=ids[:1], digests=digests[:1]
    )
    register_many = c.status_registry.register(
        issuer, issuer=_entity("issuer"), credential_ids=ids[1:], digests=digests[1:]
    )
    set_status = c.status_registry.set_status(
        issuer, credential_id=ids[0], status=CredentialStatus.SUSPENDED, reason=1
    )

    holder = Signer.from_key(_value("holder"))
    now = 2_000_000_000
    grant = ConsentGrant(
        holder=holder.address,
        grantee=_entity("data-user"),
        purpose_hash=_value("purpose"),
        scope_hash=_value("scope"),
        not_before=now,
        not_after=now + 365 * 86400,
        nonce=1,
    )
    domain, types, message = c.consent_registry.consent_typed_data(grant)
    granted = c.consent_registry.grant(
        relayer, grant, holder.sign_typed_data(domain, types, message)
    )
    consent_id = c.consent_registry.consent_id(grant)
    domain, types, message = c.consent_registry.withdrawal_typed_data(consent_id, 2)
    withdrawn = c.consent_registry.withdraw(
        relayer,
        consent_id=consent_id,
        nonce=2,
        signature=holder.sign_typed_data(domain, types, message),
    )

    def row(name: str, gas: int, note: str = "") -> dict[str, Any]:
        return {"benchmark": name, "value": f"{gas:,}", "baseline": "", "unit": "gas", "note": note}

    return [
        row("AnchorRegistry.anchor (one batch, any size)", anchor.gas_used),
        row("StatusRegistry.register (1 credential)", register_one.gas_used),
        row(
            "StatusRegistry.register (per credential, batch of 99)",
            register_many.gas_used // 99,
        ),
        row("StatusRegistry.setStatus", set_status.gas_used),
        row("ConsentRegistry.grant (relayed EIP-712)", granted.gas_used),
        row("ConsentRegistry.withdraw (relayed EIP-712)", withdrawn.gas_used),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
