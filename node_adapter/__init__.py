"""node_adapter: the only package that talks to the chain (and the only one importing web3).

Backends (in-process EVM, JSON-RPC with failover), deployment, typed clients per contract,
nonce management, checked receipts, errors mapped to `ChainError`, event reading from a
persisted cursor with rollback detection, and a launcher for local anvil nodes.

The exports load on first use (PEP 562), so that importing one web3-free module of the
package (`node_adapter.consent_format`, which the wallet SDK signs with) loads no web3.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .anchor_registry import AnchorRecord, AnchorRegistryClient
    from .anvil import ANVIL_DEV_KEYS, AnvilProcess, find_anvil_binary
    from .artifacts import ARTIFACTS_DIR, CONTRACT_NAMES, load_artifact
    from .chain import Block, Chain, ChainTransaction, DecodedEvent, RawLog, TxReceipt
    from .consent_format import (
        ConsentGrant,
        ConsentOnChain,
        TypedData,
        consent_id,
        consent_typed_data,
        withdrawal_typed_data,
    )
    from .consent_registry import ConsentRegistryClient, HolderSuccession
    from .deployment import Deployment, RegistryClients, deploy_registries
    from .enums import CredentialStatus, EntityStatus, KeyAlgorithm, KeyPurpose, Kind
    from .errors import (
        ChainError,
        ChainRollback,
        ChainTimeout,
        ChainUnavailable,
        ConfigurationError,
        TransactionReverted,
    )
    from .events import Cursor, CursorStore, EventReader, FileCursorStore
    from .signer import Signer
    from .status_registry import (
        CredentialRegistration,
        FileAdvance,
        FileHead,
        StatusChange,
        StatusRecord,
        StatusRegistryClient,
    )
    from .trust_registry import Entity, KeyRecord, TrustRegistryClient, TypeSchemaRecord

_HOMES = {
    "anchor_registry": ("AnchorRecord", "AnchorRegistryClient"),
    "anvil": ("ANVIL_DEV_KEYS", "AnvilProcess", "find_anvil_binary"),
    "artifacts": ("ARTIFACTS_DIR", "CONTRACT_NAMES", "load_artifact"),
    "chain": ("Block", "Chain", "ChainTransaction", "DecodedEvent", "RawLog", "TxReceipt"),
    "consent_format": (
        "ConsentGrant",
        "ConsentOnChain",
        "TypedData",
        "consent_id",
        "consent_typed_data",
        "withdrawal_typed_data",
    ),
    "consent_registry": ("ConsentRegistryClient", "HolderSuccession"),
    "deployment": ("Deployment", "RegistryClients", "deploy_registries"),
    "enums": ("CredentialStatus", "EntityStatus", "KeyAlgorithm", "KeyPurpose", "Kind"),
    "errors": (
        "ChainError",
        "ChainRollback",
        "ChainTimeout",
        "ChainUnavailable",
        "ConfigurationError",
        "TransactionReverted",
    ),
    "events": ("Cursor", "CursorStore", "EventReader", "FileCursorStore"),
    "signer": ("Signer",),
    "status_registry": (
        "CredentialRegistration",
        "FileAdvance",
        "FileHead",
        "StatusChange",
        "StatusRecord",
        "StatusRegistryClient",
    ),
    "trust_registry": ("Entity", "KeyRecord", "TrustRegistryClient", "TypeSchemaRecord"),
}
_HOME_OF = {name: home for home, names in _HOMES.items() for name in names}

__all__ = [
    "ANVIL_DEV_KEYS",
    "ARTIFACTS_DIR",
    "CONTRACT_NAMES",
    "AnchorRecord",
    "AnchorRegistryClient",
    "AnvilProcess",
    "Block",
    "Chain",
    "ChainError",
    "ChainRollback",
    "ChainTimeout",
    "ChainTransaction",
    "ChainUnavailable",
    "ConfigurationError",
    "ConsentGrant",
    "ConsentOnChain",
    "ConsentRegistryClient",
    "CredentialRegistration",
    "CredentialStatus",
    "Cursor",
    "CursorStore",
    "DecodedEvent",
    "Deployment",
    "Entity",
    "EntityStatus",
    "EventReader",
    "FileAdvance",
    "FileCursorStore",
    "FileHead",
    "HolderSuccession",
    "KeyAlgorithm",
    "KeyPurpose",
    "KeyRecord",
    "Kind",
    "RawLog",
    "RegistryClients",
    "Signer",
    "StatusChange",
    "StatusRecord",
    "StatusRegistryClient",
    "TransactionReverted",
    "TrustRegistryClient",
    "TxReceipt",
    "TypeSchemaRecord",
    "TypedData",
    "consent_id",
    "consent_typed_data",
    "deploy_registries",
    "find_anvil_binary",
    "load_artifact",
    "withdrawal_typed_data",
]


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
