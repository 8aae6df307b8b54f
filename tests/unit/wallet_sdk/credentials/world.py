"""A small accreditation tree on a chain, for credential tests: the Ministry, three provinces
(Beijing, Guangdong, Shanghai) and issuers with registered keys. A factory, not a fixture, so
unit, integration and end-to-end tests can share it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from node_adapter import (
    Chain,
    CredentialStatus,
    Deployment,
    EntityStatus,
    KeyAlgorithm,
    KeyPurpose,
    Kind,
    RegistryClients,
    Signer,
    deploy_registries,
)
from tests.fixtures.crypto_profile import crypto_profile_of_run
from wallet_sdk.credentials import (
    CachedTrustState,
    CredentialTypeRegistry,
    CredentialVerifier,
    DirectTrustView,
    IssuedCredential,
    StatusRegistryRef,
    VerificationPolicy,
    credential_digest,
    default_registry,
    issue_sd_jwt,
    issue_vc_jwt,
)
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.merkle import HashAlgorithm, MerkleTree
from wallet_sdk.receipt import AnchorReceipt

# The W3C specifications' own examples (VC Data Model 2.0, VC-JOSE-COSE), as data.
W3C_EXAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parents[3] / "assets" / "credentials" / "w3c_examples.json").read_text()
)
PROVINCES = {"beijing": 110000, "guangdong": 440000, "shanghai": 310000}


def org_id(name: str) -> bytes:
    return bytes(keccak(b"hrss:org:test:" + name.encode()))


@dataclass
class DemoIssuer:
    name: str
    entity_id: bytes
    province: str
    controller: Signer
    key: Jwk
    keys: list[Jwk] = field(default_factory=list)


@dataclass
class TrustWorld:
    chain: Chain
    deployment: Deployment
    clients: RegistryClients
    ministry: Signer
    province_signers: dict[str, Signer]
    types: CredentialTypeRegistry

    @classmethod
    def build(cls, chain: Chain | None = None) -> TrustWorld:
        chain = chain if chain is not None else Chain.embedded()
        signers = chain.dev_signers(4)
        ministry = signers[0]
        deployment = deploy_registries(
            chain,
            deployer=ministry,
            ministry_id=org_id("ministry"),
            ministry_region=100000,
            ministry_controller=ministry.address,
        )
        clients = deployment.clients(chain)
        province_signers = {}
        for (name, region), signer in zip(PROVINCES.items(), signers[1:], strict=True):
            clients.trust_registry.accredit(
                ministry,
                id=org_id(name),
                kind=Kind.PROVINCE,
                region=region,
                parent=org_id("ministry"),
                controllers=[signer.address],
            )
            province_signers[name] = signer
        return cls(chain, deployment, clients, ministry, province_signers, default_registry())

    @property
    def status_registry(self) -> StatusRegistryRef:
        return StatusRegistryRef(self.deployment.chain_id, self.deployment.status_registry)

    def now(self) -> int:
        return self.chain.block().timestamp

    def add_issuer(
        self,
        name: str,
        *,
        province: str,
        region: int,
        types: Iterable[str],
        curve: Curve | None = None,
        register_key: bool = True,
        kind: Kind = Kind.ISSUER,
    ) -> DemoIssuer:
        """An issuer accredited by `province` for `types`, with a key on `curve` (default: the
        run's profile, Ed25519 or SM2 under ``--crypto-profile national``)."""
        controller = Signer.generate()
        self.chain.fund(controller.address, 10**20)
        entity_id = org_id(name + secrets.token_hex(4))
        province_signer = self.province_signers[province]
        trust = self.clients.trust_registry
        trust.accredit(
            province_signer,
            id=entity_id,
            kind=kind,
            region=region,
            parent=org_id(province),
            controllers=[controller.address],
        )
        for term in types:
            trust.set_credential_type(
                province_signer,
                id=entity_id,
                credential_type=self.types.get(term).type_id,
                allowed=True,
            )
        if curve is None:
            curve = Curve.SM2 if crypto_profile_of_run() == "national" else Curve.ED25519
        key = Jwk.generate(curve)
        issuer = DemoIssuer(name, entity_id, province, controller, key, [key])
        if register_key:
            self.register_key(issuer, key)
        return issuer

    def register_key(
        self,
        issuer: DemoIssuer,
        key: Jwk,
        *,
        valid_from: int = 0,
        purpose: KeyPurpose = KeyPurpose.CREDENTIAL_SIGNING,
    ) -> int:
        """Register `key` for `purpose` from `valid_from` (0: the registration block); returns
        the time it is valid from."""
        self.clients.trust_registry.register_key(
            issuer.controller,
            id=issuer.entity_id,
            key_id=key.thumbprint(),
            alg=KeyAlgorithm(key.curve.registry_code),
            purpose=purpose,
            public_key=key.raw_public_key(),
            valid_from=valid_from,
        )
        record = self.clients.trust_registry.get_key(key.thumbprint())
        assert record is not None
        return record.valid_from

    def issue(
        self,
        issuer: DemoIssuer,
        term: str,
        subject: Mapping[str, Any],
        *,
        sd: bool = False,
        holder_key: Jwk | None = None,
        issued_at: int | None = None,
        register_status: bool = True,
        key: Jwk | None = None,
        issuer_id: bytes | None = None,
        **kwargs: Any,
    ) -> IssuedCredential:
        common: dict[str, Any] = dict(
            credential_type=self.types.get(term),
            subject=subject,
            issuer_id=issuer.entity_id if issuer_id is None else issuer_id,
            key=issuer.key if key is None else key,
            status_registry=self.status_registry,
            issued_at=self.now() if issued_at is None else issued_at,
            **kwargs,
        )
        if sd:
            issued = issue_sd_jwt(
                holder_key=holder_key or Jwk.generate(Curve.ED25519),
                **common,
            )
        else:
            issued = issue_vc_jwt(holder_key=holder_key, **common)
        if register_status:
            self.register_status(issuer, issued)
        return issued

    def register_status(self, issuer: DemoIssuer, *issued: IssuedCredential) -> int:
        """Register credentials in `StatusRegistry`, bound to their digests; returns the block
        time that witnessed them."""
        receipt = self.clients.status_registry.register(
            issuer.controller,
            issuer=issuer.entity_id,
            credential_ids=[c.credential_id for c in issued],
            digests=[c.digest for c in issued],
        )
        return self.chain.block(receipt.block_number).timestamp

    def register_token(self, issuer: DemoIssuer, credential_id: bytes, token: str) -> int:
        """Register `credential_id` bound to `token` as it is (a forged or tampered token: what
        an attacker holding the issuer's controller account could do); returns the block
        time."""
        receipt = self.clients.status_registry.register(
            issuer.controller,
            issuer=issuer.entity_id,
            credential_ids=[credential_id],
            digests=[credential_digest(token.split("~")[0])],
        )
        return self.chain.block(receipt.block_number).timestamp

    def set_status(
        self,
        issuer: DemoIssuer,
        issued: IssuedCredential,
        status: CredentialStatus,
        reason: int = 1,
    ) -> None:
        self.clients.status_registry.set_status(
            issuer.controller, credential_id=issued.credential_id, status=status, reason=reason
        )

    def set_issuer_status(self, issuer: DemoIssuer, status: EntityStatus) -> None:
        self.clients.trust_registry.set_entity_status(
            self.province_signers[issuer.province], id=issuer.entity_id, status=status, reason=7
        )

    def anchor(
        self,
        issuer: DemoIssuer,
        credentials: list[IssuedCredential],
        algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    ) -> dict[bytes, AnchorReceipt]:
        """Anchor the credentials' digests as one Merkle batch of `algorithm`, with the
        issuer's controller as its anchoring account (what the anchoring pipeline does), and
        return their receipts."""
        trust = self.clients.trust_registry
        if trust.anchoring_entity_at(issuer.controller.address, self.now()) != issuer.entity_id:
            trust.set_anchoring_account(
                issuer.controller,
                id=issuer.entity_id,
                account=issuer.controller.address,
                enabled=True,
            )
        tree = MerkleTree.build([c.digest for c in credentials], algorithm=algorithm)
        batch_ref = secrets.token_bytes(32)
        receipt = self.clients.anchor_registry.anchor(
            issuer.controller, root=tree.root, leaf_count=tree.size, batch_ref=batch_ref
        )
        block = self.chain.block(receipt.block_number)
        return {
            credential.credential_id: AnchorReceipt.create(
                document_digest=credential.digest,
                proof=tree.proof(index),
                root=tree.root,
                chain_id=self.deployment.chain_id,
                registry=self.deployment.anchor_registry,
                transaction_hash=bytes.fromhex(receipt.tx_hash.removeprefix("0x")),
                block_number=receipt.block_number,
                block_hash=block.hash,
                block_time=block.timestamp,
                anchored_by=issuer.controller.address,
                entity_id=issuer.entity_id,
                batch_ref=batch_ref,
                algorithm=algorithm,
            )
            for index, credential in enumerate(credentials)
        }

    def cached_state(self) -> CachedTrustState:
        return CachedTrustState.from_chain(self.chain, self.deployment)

    def direct_view(self) -> DirectTrustView:
        return DirectTrustView(self.chain, self.deployment)

    def verifier(self, trust: Any = None, **policy: Any) -> CredentialVerifier:
        return CredentialVerifier(
            trust if trust is not None else self.cached_state(),
            types=self.types,
            policy=VerificationPolicy(**policy),
        )


SKILL_SUBJECT = {
    "name": "王小明",
    "idNumber": "11010519900307123X",
    "occupationCode": "4-01-02-01",
    "occupationName": "电工",
    "level": 3,
    "certificateNumber": "S440300202600123",
    "assessedOn": "2026-06-01",
}
DIPLOMA_SUBJECT = {
    "name": "王小明",
    "idNumber": "11010519900307123X",
    "schoolName": "北京市工业技师学院",
    "major": "数控加工",
    "programme": "高级工班",
    "graduationDate": "2025-07-01",
    "diplomaNumber": "D110105202500042",
}


def training_subject(course: str, hours: int, end: str) -> dict[str, Any]:
    return {
        "course": course,
        "hours": hours,
        "institution": "深圳市职业技能培训中心",
        "startDate": end[:8] + "01",
        "endDate": end,
        "assessmentResult": "合格",
    }


# The claims of the RFC 9901 examples, for the test type with nested objects and arrays
# (tests/assets/credentials/resident-record.schema.json).
RECORD_SUBJECT: dict[str, Any] = {
    "given_name": "John",
    "family_name": "Doe",
    "birthdate": "1940-01-01",
    "address": {
        "street_address": "123 Main St",
        "locality": "Anytown",
        "region": "Anystate",
        "country": "US",
    },
    "nationalities": ["US", "DE"],
    "employments": [
        {"employer": "Acme", "since": "2001-01-01"},
        {"employer": "Globex", "since": "2010-05-01"},
    ],
}

# Paths at every depth: a recursive object, array elements, elements and members of elements.
RECORD_PATHS = (
    "/address",
    "/address/street_address",
    "/address/locality",
    "/nationalities/*",
    "/employments/1",
    "/employments/*/employer",
)
