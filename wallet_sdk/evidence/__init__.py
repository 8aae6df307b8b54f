"""Evidence for electronic labour contracts (电子劳动合同): lifecycle records, the evidence
package (``hrss-evidence/1``) and its verification against the chain alone.

The service builds packages; courts, arbitration commissions and either party verify them
with `verify_evidence` (or ``hrss verify-evidence``) without calling the service. The chain
side goes through `EvidenceChainView`; `wallet_sdk.evidence.chain.NodeEvidenceChainView`
implements it over `node_adapter` and is not imported here.
"""

from wallet_sdk.evidence._employee import VerifiedEmployee, mask_id_number, verify_employee_proof
from wallet_sdk.evidence._package import (
    EVIDENCE_VERSION,
    AccreditationLink,
    ContractDocument,
    EmployerRef,
    EvidenceEvent,
    EvidencePackage,
    KeyTermsDisclosure,
)
from wallet_sdk.evidence._reasons import REASON_TEXTS, Reason
from wallet_sdk.evidence._records import (
    CARD_PROOF_PURPOSE,
    CONTRACT_CARD_AUDIENCE,
    DIGEST_SIGNATURE_TYP,
    EMPLOYEE_IDENTITY_CLAIMS,
    EVENT_RECORD_TYPE,
    EVENT_RECORD_TYPE_NAMED_DIGEST,
    EventKind,
    EventRecord,
    EventSignature,
    KeyTerms,
    Relation,
    Role,
    contract_line,
    employee_card_nonce,
    employer_entity_id,
    event_digest,
    key_terms_commitment,
    pending_record,
    sign_as_employee,
    sign_as_employer,
)
from wallet_sdk.evidence._verify import (
    EVIDENCE_CHECKS,
    ContractStatus,
    EntityRecord,
    EvidenceChainView,
    EvidenceReport,
    EvidenceVerificationError,
    RegisteredKeyRecord,
    TimelineEntry,
    Verdict,
    verify_event_signature,
    verify_evidence,
)

__all__ = [
    "CARD_PROOF_PURPOSE",
    "CONTRACT_CARD_AUDIENCE",
    "DIGEST_SIGNATURE_TYP",
    "EMPLOYEE_IDENTITY_CLAIMS",
    "EVENT_RECORD_TYPE",
    "EVENT_RECORD_TYPE_NAMED_DIGEST",
    "EVIDENCE_CHECKS",
    "EVIDENCE_VERSION",
    "REASON_TEXTS",
    "AccreditationLink",
    "ContractDocument",
    "ContractStatus",
    "EmployerRef",
    "EntityRecord",
    "EventKind",
    "EventRecord",
    "EventSignature",
    "EvidenceChainView",
    "EvidenceEvent",
    "EvidencePackage",
    "EvidenceReport",
    "EvidenceVerificationError",
    "KeyTerms",
    "KeyTermsDisclosure",
    "Reason",
    "RegisteredKeyRecord",
    "Relation",
    "Role",
    "TimelineEntry",
    "Verdict",
    "VerifiedEmployee",
    "contract_line",
    "employee_card_nonce",
    "employer_entity_id",
    "event_digest",
    "key_terms_commitment",
    "mask_id_number",
    "pending_record",
    "sign_as_employee",
    "sign_as_employer",
    "verify_employee_proof",
    "verify_event_signature",
    "verify_evidence",
]
