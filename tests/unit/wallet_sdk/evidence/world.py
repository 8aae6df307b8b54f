"""A labour contract built by hand on a chain, without the service: an employer accredited
under a province with a registered key, a card centre that issued the employee's e-card, an
employee wallet holding it, lifecycle events signed by the right party (the employee's
acceptance with its e-card proof) and anchored by a Merkle batch. A factory shared by unit,
integration and e2e tests."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node_adapter import (
    AnchorRegistryClient,
    CredentialStatus,
    Deployment,
    KeyAlgorithm,
    KeyPurpose,
    Kind,
    Signer,
    TrustRegistryClient,
)
from tests.unit.wallet_sdk.credentials.test_card_proof import SUBJECT
from wallet_sdk.credentials import (
    CredentialVerifier,
    DirectTrustView,
    IssuedCredential,
    StatusRegistryRef,
    default_registry,
    issue_sd_jwt,
)
from wallet_sdk.credentials.card_proof import identity_commitment, new_commitment_salt
from wallet_sdk.evidence import (
    AccreditationLink,
    ContractDocument,
    EmployerRef,
    EventKind,
    EventRecord,
    EventSignature,
    EvidenceEvent,
    EvidencePackage,
    KeyTerms,
    KeyTermsDisclosure,
    Relation,
    Role,
    employer_entity_id,
    sign_as_employee,
    sign_as_employer,
)
from wallet_sdk.evidence.chain import NodeEvidenceChainView
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.merkle import HashAlgorithm, MerkleTree
from wallet_sdk.receipt import AnchorReceipt
from wallet_sdk.wallet import Wallet

EMPLOYER_CREDIT_CODE = "91110105MA01ABCD13"
EMPLOYER_NAME = "北京示例科技有限公司"
TERMS = {
    "position": "软件工程师 software engineer",
    "term": "2027-01-01/2029-12-31",
    "monthly_wage_fen": 2_500_000,
    "workplace": "北京市朝阳区",
}
CARD_SUBJECT: dict[str, str] = dict(SUBJECT)
OTHER_PERSON = {**CARD_SUBJECT, "name": "李四", "idNumber": "110105198001010016"}


@dataclass
class CardCentre:
    """A card issuer under the employer's province with a registered credential-signing key;
    `issue` gives a wallet its e-card, registered on `StatusRegistry`."""

    registries: Any
    entity_id: bytes
    controller: Signer
    key: Jwk

    @classmethod
    def accredit(cls, registries: Any, province: bytes) -> CardCentre:
        s = registries.signers
        controller = Signer.generate()
        registries.chain.fund(controller.address, 10**20)
        centre = registries.accredit_under_province(
            "card-centre", kind=Kind.CARD_ISSUER, province=province, region=110000,
            controller=controller,
        )  # fmt: skip
        card_type = default_registry().get("SocialSecurityCard").type_id
        registries.trust.set_credential_type(
            s.province_a, id=centre, credential_type=card_type, allowed=True
        )
        key = Jwk.generate(Curve.ED25519)
        registries.trust.register_key(
            controller,
            id=centre,
            key_id=key.thumbprint(),
            alg=KeyAlgorithm.EDDSA,
            purpose=KeyPurpose.CREDENTIAL_SIGNING,
            public_key=key.raw_public_key(),
        )
        return cls(registries, centre, controller, key)

    def issue(self, holder: Jwk, subject: dict[str, str] = CARD_SUBJECT) -> IssuedCredential:
        deployment = self.registries.deployment
        issued = issue_sd_jwt(
            credential_type=default_registry().get("SocialSecurityCard"),
            subject=subject,
            issuer_id=self.entity_id,
            key=self.key,
            status_registry=StatusRegistryRef(deployment.chain_id, deployment.status_registry),
            issued_at=int(self.registries.now()),
            holder_key=holder.public(),
        )
        self.registries.status.register(
            self.controller,
            issuer=self.entity_id,
            credential_ids=[issued.credential_id],
            digests=[issued.digest],
        )
        return issued

    def report_lost(self, card: IssuedCredential) -> None:
        self.registries.status.set_status(
            self.controller,
            credential_id=card.credential_id,
            status=CredentialStatus.SUSPENDED,
            reason=1,
        )


@dataclass
class LabourWorld:
    """Registries (the `deployment` fixture's `Registries`) with an employer under province A."""

    registries: Any  # tests.fixtures.chain.Registries
    wallet: Wallet
    employer_key: Jwk
    employer_id: bytes
    province_id: bytes
    anchorer: Signer
    view: NodeEvidenceChainView
    card_centre: CardCentre
    card: IssuedCredential
    identity_salt: str

    @classmethod
    def build(
        cls, registries: Any, wallet_dir: Path, *, profile: str = "international"
    ) -> LabourWorld:
        s = registries.signers
        province = registries.accredit_province("province-a")
        employer_id = employer_entity_id(EMPLOYER_CREDIT_CODE)
        registries.trust.accredit(
            s.province_a,
            id=employer_id,
            kind=Kind.EMPLOYER,
            region=110105,
            parent=province,
            controllers=[s.employer.address],
        )
        key = Jwk.generate(Curve.ED25519)
        registries.trust.register_key(
            s.employer,
            id=employer_id,
            key_id=key.thumbprint(),
            alg=KeyAlgorithm.EDDSA,
            purpose=KeyPurpose.DOCUMENT_SIGNING,
            public_key=key.raw_public_key(),
        )
        registries.trust.set_anchoring_account(
            s.employer, id=employer_id, account=s.anchorer.address, enabled=True
        )
        wallet = Wallet.create(wallet_dir, "employee passphrase", scrypt_n=2**10, profile=profile)
        centre = CardCentre.accredit(registries, province)
        return cls(
            registries=registries,
            wallet=wallet,
            employer_key=key,
            employer_id=employer_id,
            province_id=province,
            anchorer=s.anchorer,
            view=NodeEvidenceChainView(registries.chain),
            card_centre=centre,
            card=centre.issue(wallet.credential_key),
            identity_salt=new_commitment_salt(),
        )

    @property
    def deployment(self) -> Deployment:
        return self.registries.deployment

    @property
    def trust(self) -> TrustRegistryClient:
        return self.registries.trust

    def now(self) -> int:
        return int(self.registries.now())

    def contract(self, **kwargs: Any) -> ContractBuilder:
        return ContractBuilder(world=self, **kwargs)

    def identity_commitment(self, subject: dict[str, str] = CARD_SUBJECT) -> str:
        """The ``employee_identity`` an offer names for `subject` (0x hex)."""
        named = {"name": subject["name"], "idNumber": subject["idNumber"]}
        return "0x" + identity_commitment(named, self.identity_salt)

    def card_verifier(self) -> CredentialVerifier:
        return CredentialVerifier(DirectTrustView(self.registries.chain, self.deployment))

    def verify_kwargs(self) -> dict[str, Any]:
        return {
            "anchor_registry": self.deployment.anchor_registry,
            "trust_registry": self.deployment.trust_registry,
            "card_verifier": self.card_verifier(),
        }


@dataclass
class ContractBuilder:
    """Builds one contract's events; `anchor()` anchors the pending ones in one batch."""

    world: LabourWorld
    contract_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    events: list[EvidenceEvent] = field(default_factory=list)
    documents: dict[int, bytes] = field(default_factory=dict)
    terms: dict[int, KeyTerms] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=lambda: dict(CARD_SUBJECT))
    """The employee the employer names in its offers."""
    digest_alg: HashAlgorithm = HashAlgorithm.SHA256
    """The hash of new versions' records, documents, commitments and anchoring (SM3:
    national); a version keeps the hash it was offered with (`version_algs`)."""
    version_algs: dict[int, HashAlgorithm] = field(default_factory=dict)

    def _previous(self) -> str | None:
        return None if not self.events else "0x" + self.events[-1].record_digest.hex()

    def _add(self, record: EventRecord, signature: EventSignature) -> EventRecord:
        self.events.append(EvidenceEvent(record=record, signature=signature, receipt=None))
        return record

    def _common(self, kind: EventKind, version: int) -> dict[str, Any]:
        algorithm = self.version_algs[version]
        return {
            "contract_id": self.contract_id,
            "sequence": len(self.events),
            "previous": self._previous(),
            "event": kind,
            "version": version,
            "document_digest": "0x" + algorithm.digest(self.documents[version]).hex(),
            "key_terms_commitment": "0x" + self.terms[version].commitment(algorithm).hex(),
            "at": self.world.now(),
            "digest_alg": algorithm,
        }

    def offer(
        self,
        document: bytes,
        *,
        terms: dict[str, Any] | None = None,
        relation: Relation = Relation.ORIGINAL,
        key: Jwk | None = None,
    ) -> EventRecord:
        version = len(self.documents) + 1
        self.documents[version] = document
        self.version_algs[version] = self.digest_alg
        self.terms[version] = KeyTerms.new(terms or TERMS)
        supersedes = None
        if version > 1:
            previous_offer = next(
                e.record
                for e in self.events
                if e.record.event is EventKind.EMPLOYER_SIGNED and e.record.version == version - 1
            )
            supersedes = "0x" + previous_offer.digest().hex()
        record = EventRecord(
            **self._common(EventKind.EMPLOYER_SIGNED, version),
            employer="0x" + self.world.employer_id.hex(),
            hr_operator="人事专员 李娜 (HR-0042)",
            employee=self.world.wallet.did,
            employee_identity=self.world.identity_commitment(self.named),
            relation=relation,
            supersedes=supersedes,
        )
        signature = sign_as_employer(
            record, key=key or self.world.employer_key, entity_id=self.world.employer_id
        )
        return self._add(record, signature)

    def accept(self) -> EventRecord:
        version = len(self.documents)
        offer = next(
            e.record
            for e in self.events
            if e.record.event is EventKind.EMPLOYER_SIGNED and e.record.version == version
        )
        record = EventRecord(
            **self._common(EventKind.EMPLOYEE_SIGNED, version),
            employee=self.world.wallet.did,
            offer="0x" + offer.digest().hex(),
        )
        signature = sign_as_employee(record, wallet=self.world.wallet, card=self.world.card.token)
        return self._add(record, signature)

    def terminate(self, *, by: Role = Role.EMPLOYER, reason: str = "协商一致解除") -> EventRecord:
        version = len(self.documents)
        record = EventRecord(
            **self._common(EventKind.TERMINATED, version),
            terminated_by=by,
            reason_code="mutual-agreement",
            reason=reason,
            effective_date="2027-06-30",
        )
        if by is Role.EMPLOYER:
            signature = sign_as_employer(
                record, key=self.world.employer_key, entity_id=self.world.employer_id
            )
        else:
            signature = sign_as_employee(record, wallet=self.world.wallet)
        return self._add(record, signature)

    def anchor(self) -> None:
        pending = [i for i, e in enumerate(self.events) if e.receipt is None]
        if not pending:
            return
        digests = [self.events[i].event_digest for i in pending] + [os.urandom(32)]
        tree = MerkleTree.build(digests, algorithm=self.digest_alg)
        batch_ref = os.urandom(32)
        registry = AnchorRegistryClient(
            self.world.registries.chain, self.world.deployment.anchor_registry
        )
        tx = registry.anchor(
            self.world.anchorer, root=tree.root, leaf_count=tree.size, batch_ref=batch_ref
        )
        block = self.world.registries.chain.block(tx.block_number)
        for leaf, index in enumerate(pending):
            receipt = AnchorReceipt.create(
                document_digest=digests[leaf],
                proof=tree.proof(leaf),
                root=tree.root,
                chain_id=self.world.registries.chain.chain_id,
                registry=self.world.deployment.anchor_registry,
                transaction_hash=bytes.fromhex(tx.tx_hash.removeprefix("0x")),
                block_number=tx.block_number,
                block_hash=block.hash,
                block_time=block.timestamp,
                anchored_by=self.world.anchorer.address,
                entity_id=self.world.employer_id,
                batch_ref=batch_ref,
                algorithm=self.digest_alg,
            )
            event = self.events[index]
            self.events[index] = EvidenceEvent(event.record, event.signature, receipt)

    def package(self, *, disclose_terms: bool = False) -> EvidencePackage:
        world = self.world
        path = [
            AccreditationLink(
                "employer", "0x" + world.employer_id.hex(), "employer", 110105, "active"
            ),
            AccreditationLink(
                "province", "0x" + world.province_id.hex(), "province", 110000, "active"
            ),
            AccreditationLink(
                "ministry", "0x" + world.registries.ministry_id.hex(), "ministry", 100000, "active"
            ),
        ]
        return EvidencePackage(
            generated_at=world.now(),
            generator="tests",
            chain_id=world.registries.chain.chain_id,
            trust_registry=world.deployment.trust_registry,
            anchor_registry=world.deployment.anchor_registry,
            contract_id=self.contract_id,
            employer=EmployerRef(
                "0x" + world.employer_id.hex(), EMPLOYER_CREDIT_CODE, EMPLOYER_NAME
            ),
            employee=world.wallet.did,
            documents=tuple(
                ContractDocument(
                    v,
                    "0x" + self.version_algs[v].digest(d).hex(),
                    "application/pdf",
                    f"contract-v{v}.pdf",
                    len(d),
                    self.version_algs[v],
                )
                for v, d in self.documents.items()
            ),
            events=tuple(self.events),
            accreditation_path=tuple(path),
            key_terms=tuple(KeyTermsDisclosure(v, t) for v, t in self.terms.items())
            if disclose_terms
            else (),
            status="generated by tests",
            employee_identity_salt=self.world.identity_salt,
        )
