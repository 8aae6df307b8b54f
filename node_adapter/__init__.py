"""node_adapter: the only package that talks to the chain (and the only one importing web3).

Backends (in-process EVM, JSON-RPC with failover), deployment, typed clients per contract,
nonce management, checked receipts, errors mapped to `ChainError`, event reading from a
persisted cursor with rollback detection, and a launcher for local anvil nodes.
"""

from .anchor_registry import AnchorRecord, AnchorRegistryClient
from .anvil import ANVIL_DEV_KEYS, AnvilProcess, find_anvil_binary
from .artifacts import ARTIFACTS_DIR, CONTRACT_NAMES, load_artifact
from .chain import Block, Chain, ChainTransaction, DecodedEvent, RawLog, TxReceipt
from .consent_registry import (
    ConsentGrant,
    ConsentRecord,
    ConsentRegistryClient,
    HolderSuccession,
    TypedData,
    consent_id,
    consent_typed_data,
    withdrawal_typed_data,
)
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
    "ConsentRecord",
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
