"""Anchoring: document digests batched into Merkle trees whose roots go to `AnchorRegistry`.

- `service`: submit digests, read an item's state and receipt (what the API and CLI call);
- `upload`: the files of a multipart upload, hashed as they stream in;
- `outbox`: the database side (bulk inserts, sealing, leases, state changes);
- `batcher`: seal → anchor → confirm → receipts, with crash recovery and rollback handling;
- `ledger`: the `AnchorLedger` port the batcher writes through;
- `chain`: its implementation over `node_adapter` (`NodeAnchorLedger`);
- `worker`: the worker process (``python -m credential_service.anchoring.worker``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wallet_sdk._lazy import lazy_exports

if TYPE_CHECKING:
    from credential_service.anchoring.batcher import Batcher, BatchPolicy, FaultPoints, PassReport
    from credential_service.anchoring.chain import NodeAnchorLedger
    from credential_service.anchoring.ledger import AnchorLedger
    from credential_service.anchoring.models import AnchorState, BatchState
    from credential_service.anchoring.outbox import Inclusion, NewItem
    from credential_service.anchoring.service import (
        AnchorStatus,
        SubmittedDigest,
        anchor_status,
        anchor_status_by_digest,
        submit_digests,
    )

__all__ = [
    "AnchorLedger",
    "AnchorState",
    "AnchorStatus",
    "BatchPolicy",
    "BatchState",
    "Batcher",
    "FaultPoints",
    "Inclusion",
    "NewItem",
    "NodeAnchorLedger",
    "PassReport",
    "SubmittedDigest",
    "anchor_status",
    "anchor_status_by_digest",
    "submit_digests",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "AnchorLedger": "credential_service.anchoring.ledger",
        "AnchorState": "credential_service.anchoring.models",
        "AnchorStatus": "credential_service.anchoring.service",
        "BatchPolicy": "credential_service.anchoring.batcher",
        "BatchState": "credential_service.anchoring.models",
        "Batcher": "credential_service.anchoring.batcher",
        "FaultPoints": "credential_service.anchoring.batcher",
        "Inclusion": "credential_service.anchoring.outbox",
        "NewItem": "credential_service.anchoring.outbox",
        "NodeAnchorLedger": "credential_service.anchoring.chain",
        "PassReport": "credential_service.anchoring.batcher",
        "SubmittedDigest": "credential_service.anchoring.service",
        "anchor_status": "credential_service.anchoring.service",
        "anchor_status_by_digest": "credential_service.anchoring.service",
        "submit_digests": "credential_service.anchoring.service",
    },
)
