"""Typed clients against the real registries on both backends, through the `deployment`
fixture: typed views, writes, EIP-712 consent data matching the contract, decoded custom
errors, and `Deployment` persistence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from node_adapter import (
    AnchorRecord,
    Chain,
    ConfigurationError,
    ConsentGrant,
    CredentialRegistration,
    CredentialStatus,
    Deployment,
    Entity,
    EntityStatus,
    KeyAlgorithm,
    KeyPurpose,
    Kind,
    Signer,
    StatusChange,
    StatusRecord,
    TransactionReverted,
    consent_id,
    consent_typed_data,
)
from tests.fixtures.chain import (
    ISSUER_REGION,
    MINISTRY_REGION,
    PROVINCE_A_REGION,
    SKILL_CERTIFICATE,
    Registries,
    entity_id,
)


def _grant(r: Registries, grantee: bytes, *, nonce: int = 1) -> ConsentGrant:
    now = r.now()
    return ConsentGrant(
        holder=r.signers.holder.address,
        grantee=grantee,
        purpose_hash=b"\x11" * 32,
        scope_hash=b"\x22" * 32,
        not_before=now,
        not_after=now + 86_400,
        nonce=nonce,
    )


def test_ministry_is_bootstrapped(deployment: Registries) -> None:
    r = deployment
    assert r.trust.ministry_id() == r.ministry_id
    assert r.trust.entity(r.ministry_id) == Entity(
        kind=Kind.MINISTRY, region=MINISTRY_REGION, parent=bytes(32), status=EntityStatus.ACTIVE
    )
    assert r.trust.is_controller(r.ministry_id, r.signers.ministry.address)
    assert r.trust.entity(entity_id("nobody")) is None


def test_standard_tree(deployment: Registries) -> None:
    r = deployment
    tree = r.standard_tree()
    now = r.now()
    province = r.trust.entity(tree.province_a)
    assert province == Entity(Kind.PROVINCE, PROVINCE_A_REGION, r.ministry_id, EntityStatus.ACTIVE)
    issuer = r.trust.entity(tree.issuer)
    assert issuer is not None and issuer.kind is Kind.ISSUER and issuer.region == ISSUER_REGION
    assert r.trust.is_active_at(tree.issuer, now)
    assert r.trust.is_accredited_for(tree.issuer, SKILL_CERTIFICATE, now)
    assert r.trust.anchoring_entity_at(r.signers.anchorer.address, now) == tree.issuer
    assert r.trust.anchoring_entity_at(r.signers.outsider.address, now) is None
    assert r.trust.active_anchoring_entity(r.signers.anchorer.address) == (tree.issuer, True)
    assert r.trust.status_at(tree.court, now) is EntityStatus.ACTIVE


def test_not_controller_is_decoded_from_the_trust_registry_abi(deployment: Registries) -> None:
    r = deployment
    outsider = r.signers.outsider
    with pytest.raises(TransactionReverted) as caught:
        r.trust.accredit(
            outsider,
            id=entity_id("rogue"),
            kind=Kind.PROVINCE,
            region=PROVINCE_A_REGION,
            parent=r.ministry_id,
            controllers=[],
        )
    assert caught.value.error_name == "NotController"
    assert caught.value.args == (r.ministry_id, outsider.address)


def test_entity_status_history(deployment: Registries) -> None:
    r = deployment
    province = r.accredit_province()
    before = r.now()
    r.chain.set_next_block_timestamp(before + 100)
    receipt = r.trust.set_entity_status(
        r.signers.ministry, id=province, status=EntityStatus.SUSPENDED, reason=7
    )
    assert receipt.event("EntityStatusChanged").args["reason"] == 7
    assert r.trust.status_at(province, before) is EntityStatus.ACTIVE
    assert r.trust.status_with_reason_at(province, before + 100) == (EntityStatus.SUSPENDED, 7)
    assert not r.trust.is_active(province)


def test_keys(deployment: Registries) -> None:
    r = deployment
    tree = r.standard_tree()
    key_id = os.urandom(32)
    r.trust.register_key(
        r.signers.issuer,
        id=tree.issuer,
        key_id=key_id,
        alg=KeyAlgorithm.EDDSA,
        purpose=KeyPurpose.DOCUMENT_SIGNING,
        public_key=bytes(range(32)),
    )
    key = r.trust.get_key(key_id)
    assert key is not None
    now = key.valid_from  # from the registration block
    assert now == r.now()
    assert (key.entity_id, key.alg, key.purpose, key.public_key) == (
        tree.issuer,
        KeyAlgorithm.EDDSA,
        KeyPurpose.DOCUMENT_SIGNING,
        bytes(range(32)),
    )
    assert (key.valid_until, key.revoked_at) == (0, 0)
    assert r.trust.is_key_valid_at(key_id, now + 10)
    r.trust.end_key_validity(r.signers.issuer, key_id=key_id, valid_until=now + 1000)
    r.chain.set_next_block_timestamp(now + 700)  # a compromise is declared after the fact
    r.trust.revoke_key(r.signers.province_a, key_id=key_id, revoked_at=now + 500)
    key = r.trust.get_key(key_id)
    assert key is not None and (key.valid_until, key.revoked_at) == (now + 1000, now + 500)
    assert not r.trust.is_key_valid_at(key_id, now + 600)
    assert r.trust.get_key(os.urandom(32)) is None


def test_client_arguments_are_validated_before_sending(deployment: Registries) -> None:
    r = deployment
    with pytest.raises(ConfigurationError, match="id must be 32 bytes"):
        r.trust.accredit(
            r.signers.ministry,
            id=b"short",
            kind=Kind.PROVINCE,
            region=PROVINCE_A_REGION,
            parent=r.ministry_id,
            controllers=[],
        )
    with pytest.raises(ConfigurationError, match="region"):
        r.trust.accredit(
            r.signers.ministry,
            id=entity_id("x"),
            kind=Kind.PROVINCE,
            region=-1,
            parent=r.ministry_id,
            controllers=[],
        )
    with pytest.raises(ConfigurationError, match="not an address"):
        r.trust.is_controller(r.ministry_id, "0x1234")


def test_anchor(deployment: Registries) -> None:
    r = deployment
    tree = r.standard_tree()
    root = os.urandom(32)
    assert r.anchor.anchor_of(root) is None
    receipt = r.anchor.anchor(r.signers.anchorer, root=root, leaf_count=3, batch_ref=b"\x05" * 32)
    event = receipt.event("Anchored")
    assert event.args["root"] == root and event.args["entityId"] == tree.issuer
    block = r.chain.block(receipt.block_number)
    assert r.anchor.anchor_of(root) == AnchorRecord(
        submitter=r.signers.anchorer.address,
        timestamp=block.timestamp,
        block_number=receipt.block_number,
    )
    with pytest.raises(TransactionReverted) as caught:
        r.anchor.anchor(r.signers.anchorer, root=root, leaf_count=3, batch_ref=b"\x05" * 32)
    assert caught.value.error_name == "RootAlreadyAnchored"
    assert caught.value.args == (root,)


def test_status(deployment: Registries) -> None:
    r = deployment
    tree = r.standard_tree()
    cred = os.urandom(32)
    assert r.status.issuer_of(cred) is None
    assert r.status.registration_of(cred) is None
    digest = os.urandom(32)
    with pytest.raises(ConfigurationError, match="1 credential ids but 0 digests"):
        r.status.register(r.signers.issuer, issuer=tree.issuer, credential_ids=[cred], digests=[])
    receipt = r.status.register(
        r.signers.issuer, issuer=tree.issuer, credential_ids=[cred], digests=[digest]
    )
    registered_at = r.chain.block(receipt.block_number).timestamp
    assert r.status.issuer_of(cred) == tree.issuer
    assert r.status.registration_of(cred) == CredentialRegistration(
        tree.issuer, digest, registered_at
    )
    assert r.status.current_status(cred) == StatusRecord(CredentialStatus.ACTIVE, 0)
    r.chain.set_next_block_timestamp(registered_at + 60)
    r.status.set_status(
        r.signers.issuer, credential_id=cred, status=CredentialStatus.REVOKED, reason=4
    )
    assert r.status.status_at(cred, registered_at) == StatusRecord(CredentialStatus.ACTIVE, 0)
    assert r.status.current_status(cred) == StatusRecord(CredentialStatus.REVOKED, 4)
    assert r.status.history(cred) == (
        StatusChange(CredentialStatus.ACTIVE, 0, registered_at),
        StatusChange(CredentialStatus.REVOKED, 4, registered_at + 60),
    )


def test_consent_typed_data_matches_the_contract(deployment: Registries) -> None:
    r = deployment
    tree = r.standard_tree()
    grant = _grant(r, tree.data_user)
    expected = r.consent.hash_grant(grant)
    assert consent_id(grant, r.chain.chain_id, r.consent.address) == expected
    assert r.consent.consent_id(grant) == expected
    domain, types, message = consent_typed_data(grant, r.chain.chain_id, r.consent.address)
    assert domain["name"] == "HRSS Consent" and domain["version"] == "1"
    assert list(types) == ["Grant"] and message["holder"] == grant.holder


def test_consent_grant_and_withdraw(deployment: Registries) -> None:
    r = deployment
    tree = r.standard_tree()
    holder, relayer = r.signers.holder, r.signers.relayer
    grant = _grant(r, tree.data_user)
    signature = holder.sign_typed_data(*r.consent.consent_typed_data(grant))
    receipt = r.consent.grant(relayer, grant, signature)
    cid = receipt.event("ConsentGranted").args["consentId"]
    assert cid == r.consent.consent_id(grant)
    record = r.consent.consent_of(cid)
    assert record is not None and record.holder == holder.address and record.withdrawn_at == 0
    assert r.consent.nonce_used(holder.address, 1)
    assert r.consent.is_valid(
        consent_id=cid, grantee=tree.data_user, purpose_hash=grant.purpose_hash, at=r.now()
    )
    withdrawal = holder.sign_typed_data(*r.consent.withdrawal_typed_data(cid, 2))
    receipt = r.consent.withdraw(relayer, cid, 2, withdrawal)
    at = receipt.event("ConsentWithdrawn").args["at"]
    assert not r.consent.is_valid(
        consent_id=cid, grantee=tree.data_user, purpose_hash=grant.purpose_hash, at=at
    )
    assert r.consent.consent_of(os.urandom(32)) is None


def test_consent_signed_by_someone_else_is_rejected(deployment: Registries) -> None:
    r = deployment
    tree = r.standard_tree()
    grant = _grant(r, tree.data_user)
    forger = Signer.generate()
    signature = forger.sign_typed_data(*r.consent.consent_typed_data(grant))
    with pytest.raises(TransactionReverted) as caught:
        r.consent.grant(r.signers.relayer, grant, signature)
    assert caught.value.error_name == "InvalidSigner"
    assert caught.value.args == (grant.holder, forger.address)


def test_consent_grant_validates_fields() -> None:
    with pytest.raises(ConfigurationError, match="grantee"):
        ConsentGrant(
            holder="0x" + "11" * 20,
            grantee=b"x",
            purpose_hash=b"\x00" * 32,
            scope_hash=b"\x00" * 32,
            not_before=0,
            not_after=1,
            nonce=0,
        )


def test_deployment_save_load_and_chain_check(deployment: Registries, tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    deployment.deployment.save(path)
    loaded = Deployment.load(path)
    assert loaded == deployment.deployment
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    with pytest.raises(ConfigurationError, match="not on chain"):
        Deployment(**{**loaded.__dict__, "chain_id": 1}).clients(deployment.chain)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ConfigurationError, match="cannot read deployment"):
        Deployment.load(tmp_path / "bad.json")


def test_deployment_code_check(deployment: Registries, embedded_chain: Chain) -> None:
    placed = deployment.deployment
    placed.check_code(deployment.chain)
    assert placed.registries_without_code(deployment.chain) == ()
    # the registries swapped: each address holds a registry, but not the one named
    swapped = Deployment(
        **{
            **placed.__dict__,
            "anchor_registry": placed.status_registry,
            "status_registry": placed.anchor_registry,
        }
    )
    assert swapped.registries_without_code(deployment.chain) == (
        "AnchorRegistry",
        "StatusRegistry",
    )
    # a fresh chain (reset) with the same chain id: nothing at any address
    fresh = Deployment(**{**placed.__dict__, "chain_id": embedded_chain.chain_id})
    with pytest.raises(
        ConfigurationError,
        match=rf"^chain {embedded_chain.chain_id} does not hold this deployment: no "
        "TrustRegistry, AnchorRegistry, StatusRegistry, ConsentRegistry code at its address",
    ):
        fresh.check_code(embedded_chain)
    with pytest.raises(ConfigurationError, match="not on chain"):
        Deployment(**{**placed.__dict__, "chain_id": 1}).check_code(deployment.chain)
