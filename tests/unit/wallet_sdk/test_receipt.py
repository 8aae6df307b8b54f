"""Anchor receipts: strict format, canonical JSON, offline and on-chain verification."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.wallet_sdk.conftest import (
    ANCHORER,
    ASSETS,
    BLOCK_NUMBER,
    BLOCK_TIME,
    ENTITY,
    REGISTRY,
    TRUST_REGISTRY,
    digest_of,
)
from wallet_sdk import (
    RECEIPT_CHECKS,
    RECEIPT_VERSION,
    AnchorReceipt,
    ChainView,
    CheckStatus,
    FormatError,
    VerificationError,
    WalletError,
    verify_receipt,
    verify_receipt_offline,
)

ALL_CHECKS = [
    "document_digest",
    "leaf_hash",
    "merkle_path",
    "chain_id",
    "registry_address",
    "root_anchored",
    "block",
    "anchoring_entity_active",
]


def test_check_names_are_public_and_ordered() -> None:
    assert list(RECEIPT_CHECKS) == ALL_CHECKS


def _verify(batch: Any, index: int = 2, digest: bytes | None = None, **overrides: Any) -> Any:
    kwargs = {"anchor_registry": REGISTRY, "trust_registry": TRUST_REGISTRY, **overrides}
    return verify_receipt(
        batch.receipts[index],
        batch.digests[index] if digest is None else digest,
        batch.chain,
        **kwargs,
    )


def test_example_asset_parses_and_serialises_canonically() -> None:
    text = (ASSETS / "anchor-receipt-1.example.json").read_text(encoding="utf-8").strip()
    receipt = AnchorReceipt.parse(text)
    assert receipt.version == RECEIPT_VERSION
    assert receipt.to_json() == text
    assert AnchorReceipt.parse(json.loads(text)) == receipt


def test_to_json_is_canonical_and_round_trips(make_batch: Any) -> None:
    receipt = make_batch().receipts[0]
    text = receipt.to_json()
    assert " " not in text and "\n" not in text
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert AnchorReceipt.parse(text) == receipt
    assert AnchorReceipt.parse(text.encode()) == receipt


def test_create_checksums_addresses(make_batch: Any) -> None:
    receipt = make_batch().receipts[0]
    assert receipt.registry == REGISTRY
    assert receipt.anchored_by == ANCHORER


def _mutated(make_batch: Any, **changes: Any) -> dict[str, Any]:
    data = make_batch().receipts[1].to_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": "hrss-anchor-receipt/2"}, "at version"),
        ({"hash_algorithm": "sha-512"}, "at hash_algorithm"),
        ({"hash_algorithm": "SM3"}, "at hash_algorithm"),
        ({"document_digest": "0x" + "AB" * 32}, "at document_digest"),
        ({"document_digest": "ab" * 32}, "at document_digest"),
        ({"leaf_hash": "0x" + "ab" * 31}, "at leaf_hash"),
        ({"leaf_index": -1}, "at leaf_index"),
        ({"leaf_index": True}, "at leaf_index"),
        ({"tree_size": 0}, "at tree_size"),
        ({"path": ["0x1234"]}, "at path/0"),
        ({"path": ["0x" + "00" * 32] * 65}, "at path"),
        ({"chain_id": 0}, "at chain_id"),
        ({"chain_id": "1337"}, "at chain_id"),
        ({"registry": "0x1234"}, "at registry"),
        ({"block_time": 1.5}, "at block_time"),
        ({"extra": 1}, "Additional properties"),
    ],
)
def test_parse_rejects_schema_violations(
    make_batch: Any, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(FormatError, match=message):
        AnchorReceipt.parse(_mutated(make_batch, **changes))


def test_parse_rejects_trailing_newline_that_the_schema_pattern_lets_through(
    make_batch: Any,
) -> None:
    data = _mutated(make_batch)
    data["root"] += "\n"
    with pytest.raises(FormatError, match="root must be 0x followed by 64 lowercase hex"):
        AnchorReceipt.parse(data)


def test_create_rejects_wrong_binary_values(make_batch: Any) -> None:
    receipt = make_batch().receipts[0]
    base = {
        "document_digest": bytes.fromhex(receipt.document_digest[2:]),
        "proof": receipt.inclusion_proof(),
        "root": receipt.root_bytes,
        "chain_id": 1,
        "registry": REGISTRY,
        "transaction_hash": bytes(32),
        "block_number": 1,
        "block_hash": bytes(32),
        "block_time": 1,
        "anchored_by": ANCHORER,
        "entity_id": ENTITY,
        "batch_ref": bytes(32),
    }
    assert AnchorReceipt.create(**base).root == receipt.root
    for name, value, message in [
        ("transaction_hash", "0x" + "00" * 32, "expected bytes, got str"),
        ("block_hash", bytes(31), "block_hash must be 0x followed by 64"),
        ("document_digest", bytes(33), "document_digest must be"),
        ("registry", "0x1234", "malformed address"),
        ("chain_id", 0, r"chain_id must be an integer in \[1, 2\*\*64\)"),
    ]:
        with pytest.raises(FormatError, match=message):
            AnchorReceipt.create(**{**base, name: value})


def test_parse_rejects_missing_member(make_batch: Any) -> None:
    data = _mutated(make_batch)
    del data["block_hash"]
    with pytest.raises(FormatError, match="'block_hash' is a required property"):
        AnchorReceipt.parse(data)


def test_parse_rejects_bad_checksum(make_batch: Any) -> None:
    data = _mutated(make_batch, anchored_by=ANCHORER.lower().replace("0xdb", "0xDb"))
    with pytest.raises(FormatError, match="anchored_by is not an EIP-55 checksummed address"):
        AnchorReceipt.parse(data)


def test_parse_rejects_index_beyond_size(make_batch: Any) -> None:
    with pytest.raises(FormatError, match="leaf_index must be smaller than tree_size"):
        AnchorReceipt.parse(_mutated(make_batch, leaf_index=5, tree_size=5))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"a": 1, "a": 2}', "duplicate member 'a'"),
        ('{"block_time": 1.0}', "non-integer number"),
        ('{"block_time": NaN}', "non-standard number"),
        ("x" * 70_000, "larger than"),
    ],
)
def test_parse_rejects_bad_json(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        AnchorReceipt.parse(text)


def test_direct_construction_is_validated(make_batch: Any) -> None:
    receipt = make_batch().receipts[0]
    with pytest.raises(FormatError, match="block_number must be an integer"):
        dataclasses.replace(receipt, block_number=1.0)
    with pytest.raises(FormatError, match="path must be a tuple"):
        dataclasses.replace(receipt, path=list(receipt.path))


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=10,
        ),
    )
)
def test_property_parse_raises_only_format_error(data: Any) -> None:
    try:
        AnchorReceipt.parse(data)
    except FormatError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(AnchorReceipt.__dataclass_fields__)), st.data())
def test_property_mutating_one_member_fails_cleanly(name: str, data: st.DataObject) -> None:
    base = json.loads((ASSETS / "anchor-receipt-1.example.json").read_text())
    base[name] = data.draw(st.none() | st.integers() | st.text(max_size=70) | st.lists(st.text()))
    try:
        AnchorReceipt.parse(base)
    except FormatError:
        pass


def test_offline_verification_passes_for_every_leaf(make_batch: Any) -> None:
    batch = make_batch(7)
    for receipt, digest in zip(batch.receipts, batch.digests, strict=True):
        report = verify_receipt_offline(receipt, digest)
        assert report.passed
        assert [c.name for c in report.checks] == ALL_CHECKS[:3]


def test_offline_rejects_other_document(make_batch: Any) -> None:
    batch = make_batch()
    with pytest.raises(VerificationError, match="different document digest") as info:
        verify_receipt_offline(batch.receipts[0], digest_of(99))
    assert info.value.check == "document_digest"
    report = info.value.report
    assert report is not None
    assert [c.status for c in report.checks] == [
        CheckStatus.FAILED,
        CheckStatus.SKIPPED,
        CheckStatus.SKIPPED,
    ]


def test_offline_rejects_digest_of_wrong_length(make_batch: Any) -> None:
    with pytest.raises(VerificationError, match="must be 32 bytes") as info:
        verify_receipt_offline(make_batch().receipts[0], b"short")
    assert info.value.check == "document_digest"


def test_offline_rejects_forged_leaf_hash(make_batch: Any) -> None:
    receipt = make_batch().receipts[0]
    forged = dataclasses.replace(receipt, leaf_hash=receipt.path[0])
    with pytest.raises(VerificationError, match=r"H\(0x00 \|\| document digest\)") as info:
        verify_receipt_offline(forged, bytes.fromhex(receipt.document_digest[2:]))
    assert info.value.check == "leaf_hash"


def test_offline_rejects_tampered_path_and_root(make_batch: Any) -> None:
    batch = make_batch()
    receipt = batch.receipts[2]
    bad_path = dataclasses.replace(
        receipt, path=(receipt.path[1], receipt.path[0], *receipt.path[2:])
    )
    bad_root = dataclasses.replace(receipt, root="0x" + "00" * 32)
    bad_index = dataclasses.replace(receipt, leaf_index=3)
    for forged in (bad_path, bad_root, bad_index):
        with pytest.raises(VerificationError) as info:
            verify_receipt_offline(forged, batch.digests[2])
        assert info.value.check == "merkle_path"


def test_fake_chain_satisfies_protocol(make_batch: Any) -> None:
    assert isinstance(make_batch().chain, ChainView)


def test_full_verification_passes_and_reports_every_check(make_batch: Any) -> None:
    batch = make_batch(5)
    report = _verify(batch, 4)
    assert report.passed
    assert [c.name for c in report.checks] == ALL_CHECKS
    assert all(c.status is CheckStatus.PASSED and c.detail for c in report.checks)


def _expect_failure(batch: Any, check: str, message: str, **overrides: Any) -> None:
    with pytest.raises(VerificationError, match=message) as info:
        _verify(batch, **overrides)
    assert info.value.check == check
    report = info.value.report
    assert report is not None and not report.passed
    assert [c.name for c in report.checks] == ALL_CHECKS
    assert report.first_failure is not None and report.first_failure.name == check


def test_rejects_other_chain(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.chain = 1
    _expect_failure(batch, "chain_id", "connected to chain 1, receipt is for chain 1337")


def test_rejects_untrusted_registry(make_batch: Any) -> None:
    batch = make_batch()
    _expect_failure(batch, "registry_address", "trusted is", anchor_registry=TRUST_REGISTRY)
    _expect_failure(batch, "registry_address", "is malformed", anchor_registry="nope")


def test_rejects_root_not_anchored(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.anchors.clear()
    _expect_failure(batch, "root_anchored", "is not in the registry")


def test_rejects_root_anchored_by_someone_else(make_batch: Any) -> None:
    batch = make_batch()
    key = next(iter(batch.chain.anchors))
    batch.chain.anchors[key] = (REGISTRY, BLOCK_TIME, BLOCK_NUMBER)
    _expect_failure(batch, "root_anchored", "root was anchored by")


def test_rejects_other_block(make_batch: Any) -> None:
    batch = make_batch()
    key = next(iter(batch.chain.anchors))
    batch.chain.anchors[key] = (ANCHORER, BLOCK_TIME, BLOCK_NUMBER + 1)
    _expect_failure(batch, "block", "anchored in block 43, receipt says 42")


def test_rejects_block_hash_mismatch_after_reorg(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.blocks[BLOCK_NUMBER] = bytes(32)
    _expect_failure(batch, "block", "block 42 has hash")


def test_rejects_block_time_mismatch(make_batch: Any) -> None:
    batch = make_batch()
    key = next(iter(batch.chain.anchors))
    batch.chain.anchors[key] = (ANCHORER, BLOCK_TIME + 1, BLOCK_NUMBER)
    _expect_failure(batch, "block", "receipt says 1760000000")


def test_rejects_account_of_no_entity(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.accounts.clear()
    _expect_failure(batch, "anchoring_entity_active", "was no entity's anchoring account")


def test_rejects_account_registered_after_anchoring(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.accounts[ANCHORER] = [(BLOCK_TIME + 1, ENTITY)]
    _expect_failure(batch, "anchoring_entity_active", "was no entity's anchoring account")


def test_rejects_account_of_other_entity(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.accounts[ANCHORER] = [(0, bytes.fromhex("22" * 32))]
    _expect_failure(batch, "anchoring_entity_active", "belonged to entity 0x2222")


def test_rejects_entity_suspended_at_block_time(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.active[ENTITY] = [(0, BLOCK_TIME)]
    _expect_failure(batch, "anchoring_entity_active", "was not active at 1760000000")


def test_chain_exception_fails_closed(make_batch: Any) -> None:
    batch = make_batch()
    batch.chain.fail_with = ConnectionError("node down")
    _expect_failure(batch, "chain_id", "chain query failed: ConnectionError: node down")


def test_offline_failure_skips_dependent_chain_checks(make_batch: Any) -> None:
    batch = make_batch()
    with pytest.raises(VerificationError) as info:
        _verify(batch, 2, digest=digest_of(1))
    assert info.value.check == "document_digest"
    report = info.value.report
    assert report is not None
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["chain_id"] is CheckStatus.PASSED
    assert statuses["root_anchored"] is CheckStatus.SKIPPED
    assert statuses["anchoring_entity_active"] is CheckStatus.SKIPPED


def test_errors_share_one_root() -> None:
    assert issubclass(VerificationError, WalletError)
    assert issubclass(FormatError, WalletError)
