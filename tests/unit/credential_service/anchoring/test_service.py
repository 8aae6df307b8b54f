"""Input checks of the anchoring domain, the fault-point hook and the batch policy."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from credential_service.anchoring.batcher import BatchPolicy, FaultPoints, batch_ref_of
from credential_service.anchoring.models import AnchorState
from credential_service.anchoring.outbox import NewItem, item_id_for
from credential_service.anchoring.service import (
    MAX_DIGESTS_PER_REQUEST,
    anchor_status,
    anchor_status_by_digest,
    check_commitments,
    check_document_type,
    parse_digest,
    submit_digests,
)
from credential_service.errors import InvalidInput, NotFound


@pytest.mark.parametrize("text", ["", "0x12", "zz" * 32, "0x" + "a" * 63, "0x" + "a" * 65])
def test_a_digest_that_is_not_32_bytes_of_hex_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="64 hex digits") as err:
        parse_digest(text)
    assert err.value.code == "validation_failed"


def test_digests_parse_with_or_without_0x() -> None:
    assert parse_digest("ab" * 32) == parse_digest("0x" + "AB" * 32) == bytes([0xAB]) * 32


def test_submission_refuses_an_unknown_algorithm_nothing_and_too_much(
    anchoring_db: Callable[..., Engine],
) -> None:
    engine = anchoring_db()
    item = NewItem(os.urandom(32), "labour_contract")
    with engine.begin() as connection:
        with pytest.raises(InvalidInput, match="unsupported digest algorithm 'md5'"):
            submit_digests(connection, organisation_id=1, algorithm="md5", items=[item])
        with pytest.raises(InvalidInput, match="no digest"):
            submit_digests(connection, organisation_id=1, algorithm="sha-256", items=[])
        with pytest.raises(InvalidInput, match="at most 10000 digests"):
            submit_digests(
                connection,
                organisation_id=1,
                algorithm="sha-256",
                items=[item] * (MAX_DIGESTS_PER_REQUEST + 1),
            )


def test_commitments_and_document_types_are_checked() -> None:
    assert check_commitments(["AB" * 32]) == ("0x" + "ab" * 32,)
    assert check_commitments(None) is None
    with pytest.raises(InvalidInput, match="at most 16 commitments"):
        check_commitments(["ab" * 32] * 17)
    assert check_document_type("labour_contract.v2") == "labour_contract.v2"
    with pytest.raises(InvalidInput, match="document_type"):
        check_document_type("Labour Contract")


def test_an_item_waits_as_submitted_and_is_found_by_digest_only_by_its_owner(
    anchoring_db: Callable[..., Engine],
) -> None:
    engine = anchoring_db()
    digest = os.urandom(32)
    with engine.begin() as connection:
        (submitted,) = submit_digests(
            connection,
            organisation_id=1,
            algorithm="sha-256",
            items=[NewItem(digest, "certificate", ("0x" + "cd" * 32,))],
        )
    with engine.connect() as connection:
        status = anchor_status_by_digest(
            connection, organisation_id=1, algorithm="sha-256", digest=digest
        )
        assert status.id == submitted.id == item_id_for(1, "sha-256", digest)
        assert status.state is AnchorState.SUBMITTED and status.receipt is None
        assert status.commitments == ("0x" + "cd" * 32,)
        with pytest.raises(NotFound, match="no such anchor"):
            anchor_status(connection, organisation_id=2, item_id=submitted.id)


def test_item_ids_are_uuid_version_8_and_differ_by_organisation() -> None:
    digest = bytes(32)
    first, second = item_id_for(1, "sha-256", digest), item_id_for(2, "sha-256", digest)
    assert first != second and len(first) == 16
    assert first[6] >> 4 == 8 and first[8] >> 6 == 0b10


def test_fault_points_are_parsed_and_unknown_ones_refused() -> None:
    assert FaultPoints.parse("after_send=pause, before_receipts=crash").actions == {
        "after_send": "pause",
        "before_receipts": "crash",
    }
    assert FaultPoints.parse(None).actions == {}
    with pytest.raises(ValueError, match="pause or crash"):
        FaultPoints.parse("after_send=explode")
    with pytest.raises(ValueError, match="unknown fault points"):
        FaultPoints.parse("somewhere=pause")


def test_batch_policy_is_validated_and_backs_off_up_to_its_cap() -> None:
    with pytest.raises(ValueError, match="uint32"):
        BatchPolicy(max_leaves=0)
    with pytest.raises(ValueError, match="confirmations"):
        BatchPolicy(confirmations=-1)
    policy = BatchPolicy(backoff_base=timedelta(seconds=1), backoff_cap=timedelta(seconds=8))
    assert policy.backoff(1) <= timedelta(seconds=1)
    assert timedelta(seconds=4) <= policy.backoff(20) <= timedelta(seconds=8)


def test_the_batch_ref_is_the_batch_id_right_aligned() -> None:
    batch_id = os.urandom(16)
    assert batch_ref_of(batch_id) == bytes(16) + batch_id
