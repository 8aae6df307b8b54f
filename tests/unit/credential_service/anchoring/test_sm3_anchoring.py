"""SM3 in the anchoring domain: submission, idempotency per algorithm, streamed hashing, the
batch policy, and SM3 items sealed into SM3 batches apart from SHA-256 ones."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from credential_service.anchoring import outbox
from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.models import AnchorState
from credential_service.anchoring.outbox import NewItem, item_id_for
from credential_service.anchoring.service import (
    ALGORITHMS,
    StreamingDigest,
    anchor_status,
    anchor_status_by_digest,
    submit_digests,
    submit_digests_of_type,
)
from credential_service.errors import InvalidInput, NotFound
from tests.fixtures.anchoring import AnchoringRegistries
from wallet_sdk.chain_view import NodeChainView
from wallet_sdk.errors import VerificationError
from wallet_sdk.merkle import HashAlgorithm, MerkleTree
from wallet_sdk.receipt import AnchorReceipt, verify_receipt, verify_receipt_offline

embedded = pytest.mark.parametrize("_chain_base", ["embedded"], indirect=True)

ORG = 11
SM3 = HashAlgorithm.SM3


def test_sha256_and_sm3_are_the_accepted_algorithms() -> None:
    assert ALGORITHMS == {"sha-256", "sm3"}


def test_streaming_digest_hashes_with_the_named_algorithm() -> None:
    data = os.urandom(3 * 65_536 + 17)
    streamed = StreamingDigest("sm3")
    for start in range(0, len(data), 65_536):
        streamed.update(data[start : start + 65_536])
    assert (streamed.algorithm, streamed.size) == ("sm3", len(data))
    assert streamed.digest() == SM3.digest(data) != HashAlgorithm.SHA256.digest(data)
    default = StreamingDigest()
    default.update(data)
    assert default.algorithm == "sha-256"
    assert default.digest() == HashAlgorithm.SHA256.digest(data)
    with pytest.raises(InvalidInput, match="unsupported digest algorithm 'md5'") as info:
        StreamingDigest("md5")
    assert info.value.code == "validation_failed"


def test_the_same_bytes_under_each_algorithm_are_two_items(
    anchoring_db: Callable[..., Engine],
) -> None:
    engine = anchoring_db()
    digest = os.urandom(32)
    with engine.begin() as connection:
        (as_sm3,) = submit_digests(
            connection, organisation_id=ORG, algorithm="sm3", items=[NewItem(digest, "contract")]
        )
        (as_sha,) = submit_digests_of_type(
            connection,
            organisation_id=ORG,
            algorithm="sha-256",
            document_type="contract",
            digests=[digest],
        )
        (again,) = submit_digests_of_type(
            connection, organisation_id=ORG, algorithm="sm3", document_type="x", digests=[digest]
        )
    assert as_sm3.id == again == item_id_for(ORG, "sm3", digest)
    assert as_sha == item_id_for(ORG, "sha-256", digest) != as_sm3.id
    with engine.connect() as connection:
        sm3_status = anchor_status_by_digest(
            connection, organisation_id=ORG, algorithm="sm3", digest=digest
        )
        sha_status = anchor_status_by_digest(
            connection, organisation_id=ORG, algorithm="sha-256", digest=digest
        )
        assert (sm3_status.id, sm3_status.algorithm) == (as_sm3.id, "sm3")
        assert sm3_status.document_type == "contract"  # the first submission's stands
        assert (sha_status.id, sha_status.algorithm) == (as_sha, "sha-256")
        count = connection.execute(
            select(outbox.ITEM.c.id).where(outbox.ITEM.c.organisation_id == ORG)
        ).all()
        assert len(count) == 2


def test_a_digest_submitted_as_sm3_is_not_found_as_sha256(
    anchoring_db: Callable[..., Engine],
) -> None:
    engine = anchoring_db()
    digest = os.urandom(32)
    with engine.begin() as connection:
        submit_digests(
            connection, organisation_id=ORG, algorithm="sm3", items=[NewItem(digest, "contract")]
        )
    with engine.connect() as connection:
        with pytest.raises(NotFound, match="no such anchor"):
            anchor_status_by_digest(
                connection, organisation_id=ORG, algorithm="sha-256", digest=digest
            )
        with pytest.raises(InvalidInput, match="unsupported digest algorithm 'SM3'"):
            anchor_status_by_digest(connection, organisation_id=ORG, algorithm="SM3", digest=digest)


def test_the_batch_policy_seals_both_algorithms_by_default_and_checks_its_list() -> None:
    assert BatchPolicy().algorithms == ("sha-256", "sm3")
    assert BatchPolicy(algorithms=("sm3",)).algorithms == ("sm3",)
    with pytest.raises(ValueError, match=r"unknown digest algorithms \['sha3-256'\]"):
        BatchPolicy(algorithms=("sha-256", "sha3-256"))
    with pytest.raises(ValueError, match="at least one algorithm, none twice"):
        BatchPolicy(algorithms=())
    with pytest.raises(ValueError, match="at least one algorithm, none twice"):
        BatchPolicy(algorithms=("sm3", "sm3"))


def _submit(engine: Engine, algorithm: str, documents: list[bytes]) -> list[bytes]:
    digests = [HashAlgorithm(algorithm).digest(document) for document in documents]
    with engine.begin() as connection:
        submitted = submit_digests(
            connection,
            organisation_id=ORG,
            algorithm=algorithm,
            items=[NewItem(digest, "labour_contract") for digest in digests],
        )
    return [item.id for item in submitted]


def _batcher(engine: Engine, env: AnchoringRegistries, **policy: object) -> Batcher:
    return Batcher(
        engine=engine,
        ledger=env.ledger(),
        owner="sm3-test",
        policy=BatchPolicy(**{"max_age": timedelta(0), **policy}),
    )


@embedded
def test_sm3_and_sha256_items_end_in_separate_batches_that_each_verify(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    documents = [os.urandom(1000) for _ in range(40)]
    sm3_ids = _submit(engine, "sm3", documents[:25])
    sha_ids = _submit(engine, "sha-256", documents[15:])  # ten documents under both
    report = _batcher(engine, anchoring_registries).drain(timeout=30)
    assert (report.sealed, report.confirmed, report.confirmed_items) == (2, 2, 50)
    assert len(anchoring_registries.anchored_events()) == 2

    view = NodeChainView(anchoring_registries.chain)
    batches: dict[str, set[bytes]] = {"sm3": set(), "sha-256": set()}
    last: dict[str, tuple[AnchorReceipt, bytes]] = {}
    with engine.connect() as connection:
        for algorithm, ids, docs in (
            ("sm3", sm3_ids, documents[:25]),
            ("sha-256", sha_ids, documents[15:]),
        ):
            hash_algorithm = HashAlgorithm(algorithm)
            for item_id, document in zip(ids, docs, strict=True):
                status = anchor_status(connection, organisation_id=ORG, item_id=item_id)
                assert status.state is AnchorState.CONFIRMED and status.receipt is not None
                assert status.receipt.hash_algorithm == algorithm
                assert status.batch_id is not None
                batches[algorithm].add(status.batch_id)
                digest = hash_algorithm.digest(document)
                verify_receipt_offline(status.receipt, digest, algorithm=hash_algorithm)
                last[algorithm] = (status.receipt, digest)
            receipt, digest = last[algorithm]
            verify_receipt(
                receipt,
                digest,
                view,
                anchor_registry=anchoring_registries.anchor_registry,
                trust_registry=anchoring_registries.trust_registry,
                algorithm=hash_algorithm,
            )
        sm3_batch, sha_batch = batches["sm3"], batches["sha-256"]
        assert len(sm3_batch) == len(sha_batch) == 1 and sm3_batch != sha_batch
        rows = connection.execute(
            select(outbox.BATCH.c.id, outbox.BATCH.c.algorithm, outbox.BATCH.c.root)
        ).all()
        for row in rows:
            leaves = [digest for _, digest in outbox.load_leaf_rows(connection, row.id)]
            algorithm = HashAlgorithm(row.algorithm)
            assert MerkleTree.build(leaves, algorithm).root == bytes(row.root)
        assert {bytes(row.id): row.algorithm for row in rows} == {
            next(iter(sm3_batch)): "sm3",
            next(iter(sha_batch)): "sha-256",
        }
    # An SM3 receipt checked as SHA-256, and the other way round, fail at the first check.
    for receipt, digest in last.values():
        other = SM3 if receipt.algorithm is HashAlgorithm.SHA256 else HashAlgorithm.SHA256
        with pytest.raises(VerificationError, match="receipt is for a digest of") as info:
            verify_receipt_offline(receipt, digest, algorithm=other)
        assert info.value.check == "document_digest"


@embedded
def test_a_batcher_without_sm3_leaves_sm3_items_waiting(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    (sm3_id,) = _submit(engine, "sm3", [b"kept for an SM3 batcher"])
    (sha_id,) = _submit(engine, "sha-256", [b"anchored now"])
    report = _batcher(engine, anchoring_registries, algorithms=("sha-256",)).run_once()
    assert (report.sealed, report.confirmed) == (1, 1)
    with engine.connect() as connection:
        waiting = anchor_status(connection, organisation_id=ORG, item_id=sm3_id)
        done = anchor_status(connection, organisation_id=ORG, item_id=sha_id)
    assert waiting.state is AnchorState.SUBMITTED and waiting.batch_id is None
    assert done.state is AnchorState.CONFIRMED
    _batcher(engine, anchoring_registries, algorithms=("sm3",)).drain(timeout=30)
    with engine.connect() as connection:
        sealed = anchor_status(connection, organisation_id=ORG, item_id=sm3_id)
    assert sealed.receipt is not None and sealed.receipt.hash_algorithm == "sm3"
    verify_receipt_offline(sealed.receipt, SM3.digest(b"kept for an SM3 batcher"), algorithm=SM3)
