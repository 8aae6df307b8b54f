"""Anchor receipts (``hrss-anchor-receipt/1``) and their verification.

A receipt proves that a document digest is a leaf of a Merkle batch whose root was written
to `AnchorRegistry`. `verify_receipt_offline` checks the part that needs no chain (digest,
leaf hash, Merkle path); `verify_receipt` adds the on-chain checks through a `ChainView`, which
`node_adapter` implements. Both run named checks in a fixed order and fail closed.

A receipt's ``hash_algorithm`` (``sha-256`` or ``sm3``) is the one hash of the document
digest, the leaf and every inner node. The verifier states which algorithm its digest is
(SHA-256 unless told), and a receipt for another one fails the ``document_digest`` check: a
receipt never chooses the algorithm it is checked with.

Byte values are 0x-prefixed lowercase hex; addresses are EIP-55 checksummed. The format is
defined by ``wallet_sdk/schemas/anchor-receipt-1.schema.json``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import jsonschema
from eth_utils.address import is_checksum_address, to_checksum_address

from wallet_sdk._strict_json import load_object, schema_validator
from wallet_sdk.checks import CheckFailed, CheckReport, CheckResult, CheckRunner, CheckStatus
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.merkle import HashAlgorithm, InclusionProof, leaf_hash, verify_inclusion

__all__ = [
    "RECEIPT_CHECKS",
    "RECEIPT_VERSION",
    "AnchorReceipt",
    "AnchorRecord",
    "ChainView",
    "CheckResult",
    "CheckStatus",
    "ReceiptVerification",
    "load_receipt_argument",
    "verify_receipt",
    "verify_receipt_offline",
]

RECEIPT_VERSION = "hrss-anchor-receipt/1"
_HASH_ALGORITHMS = frozenset(algorithm.value for algorithm in HashAlgorithm)
_BYTES32 = re.compile(r"0x[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32_FIELDS = (
    "document_digest",
    "leaf_hash",
    "root",
    "transaction_hash",
    "block_hash",
    "entity_id",
    "batch_ref",
)
_INT_FIELDS = (
    ("leaf_index", 0),
    ("tree_size", 1),
    ("chain_id", 1),
    ("block_number", 0),
    ("block_time", 0),
)
_UINT64_MAX = 2**64 - 1
_MAX_PATH = 64
_MAX_RECEIPT_TEXT = 64 * 1024
_ZERO32 = bytes(32)


def _validator() -> jsonschema.protocols.Validator:
    return schema_validator("anchor-receipt-1.schema.json")


@lru_cache(maxsize=4096)
def _is_checksummed(address: str) -> bool:
    # Receipts of one deployment repeat a handful of addresses; keccak per receipt adds up.
    return bool(_ADDRESS.fullmatch(address)) and bool(is_checksum_address(address))


@lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    return str(to_checksum_address(address))


def _hex32(value: bytes) -> str:
    if not isinstance(value, bytes | bytearray):
        raise FormatError(f"expected bytes, got {type(value).__name__}")
    return "0x" + bytes(value).hex()


def _unhex(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@dataclass(frozen=True, slots=True)
class AnchorReceipt:
    """An anchor receipt, validated against the v1 JSON Schema when built.

    Raises `FormatError` when any field is malformed: unknown version or hash algorithm,
    non-hex or wrongly sized byte values, a non-checksummed address, negative numbers,
    ``leaf_index >= tree_size``.
    """

    version: str
    hash_algorithm: str
    document_digest: str
    leaf_hash: str
    leaf_index: int
    tree_size: int
    path: tuple[str, ...]
    root: str
    chain_id: int
    registry: str
    transaction_hash: str
    block_number: int
    block_hash: str
    block_time: int
    anchored_by: str
    entity_id: str
    batch_ref: str

    def __post_init__(self) -> None:
        # Hand-written twin of the JSON Schema (which `parse` also applies): it is ~50x faster
        # than jsonschema, and stricter, since the schema's "$" lets a trailing newline through.
        if self.version != RECEIPT_VERSION:
            raise FormatError(f"version must be {RECEIPT_VERSION!r}")
        if self.hash_algorithm not in _HASH_ALGORITHMS:
            raise FormatError(f"hash_algorithm must be one of {sorted(_HASH_ALGORITHMS)}")
        for name in _BYTES32_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str) or not _BYTES32.fullmatch(value):
                raise FormatError(f"{name} must be 0x followed by 64 lowercase hex digits")
        for name, low in _INT_FIELDS:
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= _UINT64_MAX:
                raise FormatError(f"{name} must be an integer in [{low}, 2**64)")
        if not isinstance(self.path, tuple) or len(self.path) > _MAX_PATH:
            raise FormatError(f"path must be a tuple of at most {_MAX_PATH} hex strings")
        for node in self.path:
            if not isinstance(node, str) or not _BYTES32.fullmatch(node):
                raise FormatError("path elements must be 0x followed by 64 lowercase hex digits")
        for name in ("registry", "anchored_by"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _is_checksummed(value):
                raise FormatError(f"{name} is not an EIP-55 checksummed address")
        if self.leaf_index >= self.tree_size:
            raise FormatError("leaf_index must be smaller than tree_size")

    @classmethod
    def create(
        cls,
        *,
        document_digest: bytes,
        proof: InclusionProof,
        root: bytes,
        chain_id: int,
        registry: str,
        transaction_hash: bytes,
        block_number: int,
        block_hash: bytes,
        block_time: int,
        anchored_by: str,
        entity_id: bytes,
        batch_ref: bytes,
        algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    ) -> AnchorReceipt:
        """Build a receipt from binary values, as the anchoring batcher holds them.

        Addresses may be given in any case and are checksummed. Raises `FormatError` when a
        value is malformed, `UnsupportedAlgorithmError` for an algorithm not implemented.
        """
        try:
            registry_address = _checksum(registry)
            sender = _checksum(anchored_by)
        except (ValueError, TypeError) as err:
            raise FormatError(f"malformed address: {err}") from err
        if not isinstance(document_digest, bytes):
            raise FormatError("document_digest must be bytes")
        return cls(
            version=RECEIPT_VERSION,
            hash_algorithm=algorithm.value,
            document_digest=_hex32(document_digest),
            leaf_hash=_hex32(leaf_hash(document_digest, algorithm)),
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            path=tuple(_hex32(node) for node in proof.path),
            root=_hex32(root),
            chain_id=chain_id,
            registry=registry_address,
            transaction_hash=_hex32(transaction_hash),
            block_number=block_number,
            block_hash=_hex32(block_hash),
            block_time=block_time,
            anchored_by=sender,
            entity_id=_hex32(entity_id),
            batch_ref=_hex32(batch_ref),
        )

    @classmethod
    def parse(cls, data: str | bytes | Mapping[str, Any]) -> AnchorReceipt:
        """Parse a receipt from JSON text or an already-decoded JSON object.

        Strict: unknown members, duplicate members, floats, wrong types and values outside
        the schema are rejected. Raises `FormatError` (and nothing else) on any malformed
        input.
        """
        decoded = load_object(
            data,
            what="receipt",
            size_label="receipt text",
            max_bytes=_MAX_RECEIPT_TEXT,
            validator=_validator(),
            schema_label="the v1 schema",
        )
        fields = dict(decoded)
        fields["path"] = tuple(fields["path"])
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        """The receipt as a JSON-ready dict (``path`` as a list)."""
        result = asdict(self)
        result["path"] = list(self.path)
        return result

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace, ASCII only. Parses back equal."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def algorithm(self) -> HashAlgorithm:
        """Hash algorithm of the Merkle tree."""
        return HashAlgorithm.from_name(self.hash_algorithm)

    def inclusion_proof(self) -> InclusionProof:
        """The Merkle inclusion proof carried by the receipt."""
        return InclusionProof(
            leaf_index=self.leaf_index,
            tree_size=self.tree_size,
            path=tuple(_unhex(node) for node in self.path),
        )

    @property
    def root_bytes(self) -> bytes:
        """The Merkle root as 32 bytes, as `AnchorRegistry` stores it."""
        return _unhex(self.root)


class AnchorRecord(NamedTuple):
    """What `AnchorRegistry` holds for a root: who anchored it, when, and in which block."""

    submitter: str
    timestamp: int
    block_number: int


@runtime_checkable
class ChainView(Protocol):
    """Read-only view of the chain that receipt verification needs.

    `node_adapter` provides the real implementation. Any exception an implementation raises
    makes the check that called it fail (verification fails closed).
    """

    def chain_id(self) -> int:
        """EIP-155 chain id of the connected network."""
        ...

    def anchor_of(self, registry: str, root: bytes) -> AnchorRecord | tuple[str, int, int] | None:
        """Anchor of `root` in the AnchorRegistry at `registry`, or ``None`` if absent."""
        ...

    def block_hash(self, number: int) -> bytes:
        """Hash of the canonical block at height `number`."""
        ...

    def anchoring_entity_at(self, trust_registry: str, address: str, t: int) -> bytes:
        """Entity id (bytes32) owning anchoring account `address` at time `t`; zero if none."""
        ...

    def is_active_at(self, trust_registry: str, entity: bytes, t: int) -> bool:
        """Whether `entity` was active (not suspended or revoked) at time `t`."""
        ...


@dataclass(frozen=True, slots=True)
class ReceiptVerification(CheckReport):
    """Step-by-step report of a receipt verification, in check order."""

    receipt: AnchorReceipt
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed (a report with no checks never passes)."""
        return bool(self.checks) and all(check.passed for check in self.checks)


_OFFLINE_CHECKS = ("document_digest", "leaf_hash", "merkle_path")
_ONLINE_CHECKS = (
    "chain_id",
    "registry_address",
    "root_anchored",
    "block",
    "anchoring_entity_active",
)
RECEIPT_CHECKS: tuple[str, ...] = _OFFLINE_CHECKS + _ONLINE_CHECKS
"""Names of the receipt checks, in the order `verify_receipt` runs and reports them."""


def _finish(runner: CheckRunner, receipt: AnchorReceipt) -> ReceiptVerification:
    report = ReceiptVerification(receipt=receipt, checks=tuple(runner.results))
    failure = report.first_failure
    if failure is not None:
        raise VerificationError(failure.name, failure.detail, report=report)
    return report


def _runner() -> CheckRunner:
    # Every check that is not pure computation asks the chain view.
    return CheckRunner(unexpected="chain query failed: ")


def _run_offline(
    runner: CheckRunner, receipt: AnchorReceipt, document_digest: bytes, algorithm: HashAlgorithm
) -> None:
    def check_digest() -> str:
        if not isinstance(algorithm, HashAlgorithm):
            raise CheckFailed(f"the digest's algorithm must be a HashAlgorithm, not {algorithm!r}")
        if not isinstance(document_digest, bytes) or len(document_digest) != 32:
            raise CheckFailed("document digest must be 32 bytes")
        if receipt.hash_algorithm != algorithm.value:
            raise CheckFailed(
                f"receipt is for a digest of {receipt.hash_algorithm}, "
                f"the digest given is of {algorithm.value}"
            )
        if not hmac.compare_digest(_unhex(receipt.document_digest), document_digest):
            raise CheckFailed("receipt is for a different document digest")
        return f"receipt names this document's {algorithm.value} digest"

    # Both run only after check_digest passed: `algorithm` is then the receipt's too.
    def check_leaf() -> str:
        expected = leaf_hash(document_digest, algorithm)
        if not hmac.compare_digest(_unhex(receipt.leaf_hash), expected):
            raise CheckFailed("leaf hash is not H(0x00 || document digest)")
        return f"leaf hash recomputed with {algorithm.value}"

    def check_path() -> str:
        verify_inclusion(
            _unhex(receipt.leaf_hash),
            receipt.inclusion_proof(),
            receipt.root_bytes,
            algorithm,
        )
        return f"leaf {receipt.leaf_index} of {receipt.tree_size} leads to root {receipt.root}"

    runner.run("document_digest", check_digest)
    runner.run("leaf_hash", check_leaf, after=("document_digest",))
    runner.run("merkle_path", check_path, after=("leaf_hash",))


def verify_receipt_offline(
    receipt: AnchorReceipt,
    document_digest: bytes,
    *,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
) -> ReceiptVerification:
    """Check a receipt without the chain: digest, leaf hash and Merkle path.

    `document_digest` is the document's digest under `algorithm` (for a document in hand,
    ``algorithm.digest(document)``); a receipt for another algorithm fails
    ``document_digest``. This proves only that the document is in the batch whose root the
    receipt names; it says nothing about whether that root was ever anchored. Returns the
    report when all checks pass. Raises `VerificationError` naming the first failed check
    (``document_digest``, ``leaf_hash`` or ``merkle_path``), with the full report attached as
    ``.report``.
    """
    runner = _runner()
    _run_offline(runner, receipt, document_digest, algorithm)
    return _finish(runner, receipt)


def verify_receipt(
    receipt: AnchorReceipt,
    document_digest: bytes,
    chain: ChainView,
    *,
    anchor_registry: str,
    trust_registry: str,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
) -> ReceiptVerification:
    """Verify a receipt completely: offline checks, then against the chain.

    `document_digest` is the document's digest under `algorithm`, SHA-256 unless told; to
    verify against the document itself, pass ``algorithm.digest(document)`` (or feed
    ``algorithm.new()`` for a large file) with the same `algorithm`. The algorithm is the
    verifier's choice: the receipt's ``hash_algorithm`` must be it.

    Checks, in order (each reported as passed, failed or skipped, with the reason):

    1. ``document_digest``: the receipt is for a digest of `algorithm` and names this digest.
    2. ``leaf_hash``: its leaf hash is ``H(0x00 || digest)``, ``H`` being `algorithm`.
    3. ``merkle_path``: the path leads from the leaf to the root.
    4. ``chain_id``: the chain is the one the receipt names.
    5. ``registry_address``: the receipt's registry is the AnchorRegistry the verifier trusts
       (`anchor_registry`); a receipt cannot pick its own registry.
    6. ``root_anchored``: the registry holds the root, sent by the receipt's ``anchored_by``.
    7. ``block``: anchored at the receipt's block number, that block's hash is the receipt's,
       and the anchor time is the receipt's ``block_time``.
    8. ``anchoring_entity_active``: at ``block_time`` the anchoring account belonged to the
       receipt's entity in `trust_registry`, and that entity was active.

    ``transaction_hash`` and ``batch_ref`` are informational: a `ChainView` exposes no
    transaction lookup, and the root binds the batch.

    Returns the report when every check passed. Raises `VerificationError` naming the first
    check that did not pass, with the full report as ``.report``. An exception raised by
    `chain` fails the check that called it.
    """
    runner = _runner()
    _run_offline(runner, receipt, document_digest, algorithm)
    record: list[AnchorRecord] = []

    def check_chain_id() -> str:
        actual = chain.chain_id()
        if actual != receipt.chain_id:
            raise CheckFailed(
                f"connected to chain {actual}, receipt is for chain {receipt.chain_id}"
            )
        return f"chain {actual}"

    def check_registry() -> str:
        try:
            trusted = to_checksum_address(anchor_registry)
        except (ValueError, TypeError) as err:
            raise CheckFailed(f"trusted registry address {anchor_registry!r} is malformed") from err
        if receipt.registry != trusted:
            raise CheckFailed(f"receipt names registry {receipt.registry}, trusted is {trusted}")
        return f"AnchorRegistry {trusted}"

    def check_root() -> str:
        found = chain.anchor_of(receipt.registry, receipt.root_bytes)
        if found is None:
            raise CheckFailed(f"root {receipt.root} is not in the registry")
        anchor = AnchorRecord(*found)
        record.append(anchor)
        try:
            submitter = to_checksum_address(anchor.submitter)
        except (ValueError, TypeError) as err:
            raise CheckFailed("chain returned a malformed submitter address") from err
        if submitter != receipt.anchored_by:
            raise CheckFailed(
                f"root was anchored by {submitter}, receipt says {receipt.anchored_by}"
            )
        return f"root anchored by {submitter}"

    def check_block() -> str:
        anchor = record[0]
        if anchor.block_number != receipt.block_number:
            raise CheckFailed(
                f"anchored in block {anchor.block_number}, receipt says {receipt.block_number}"
            )
        actual_hash = chain.block_hash(receipt.block_number)
        if not hmac.compare_digest(bytes(actual_hash), _unhex(receipt.block_hash)):
            raise CheckFailed(
                f"block {receipt.block_number} has hash 0x{bytes(actual_hash).hex()}, "
                f"receipt says {receipt.block_hash}"
            )
        if anchor.timestamp != receipt.block_time:
            raise CheckFailed(
                f"anchored at time {anchor.timestamp}, receipt says {receipt.block_time}"
            )
        return f"block {receipt.block_number} at time {receipt.block_time}"

    def check_entity() -> str:
        entity = bytes(
            chain.anchoring_entity_at(trust_registry, receipt.anchored_by, receipt.block_time)
        )
        if len(entity) != 32 or entity == _ZERO32:
            raise CheckFailed(f"{receipt.anchored_by} was no entity's anchoring account then")
        if not hmac.compare_digest(entity, _unhex(receipt.entity_id)):
            raise CheckFailed(
                f"account belonged to entity 0x{entity.hex()}, not {receipt.entity_id}"
            )
        if chain.is_active_at(trust_registry, entity, receipt.block_time) is not True:
            raise CheckFailed(f"entity {receipt.entity_id} was not active at {receipt.block_time}")
        return f"entity {receipt.entity_id} active at {receipt.block_time}"

    offline = _OFFLINE_CHECKS
    runner.run("chain_id", check_chain_id)
    runner.run("registry_address", check_registry)
    runner.run("root_anchored", check_root, after=(*offline, "chain_id", "registry_address"))
    runner.run("block", check_block, after=("root_anchored",))
    runner.run("anchoring_entity_active", check_entity, after=("root_anchored", "block"))
    return _finish(runner, receipt)


def load_receipt_argument(document: Path, receipt: Path) -> AnchorReceipt:
    """The receipt in the file `receipt`, for the ``verify-receipt DOCUMENT RECEIPT`` commands
    (``hrss`` and ``hrss-wallet`` take the two in this one order).

    Raises `FormatError` when the file cannot be read or holds no receipt; when `document`
    holds one instead, the message says the two were given the other way round.
    """
    try:
        return AnchorReceipt.parse(receipt.read_bytes())
    except (OSError, FormatError) as err:
        try:
            AnchorReceipt.parse(document.read_bytes())
        except (OSError, FormatError):
            raise FormatError(f"{receipt} is not an anchor receipt: {err}") from err
        raise FormatError(
            f"{document} is the receipt: give the two the other way round: "
            "verify-receipt DOCUMENT RECEIPT"
        ) from err
