"""Migration ``sealing_0001`` seals the contract documents, consent requests and receipts
written before it, drops waiting login tokens, refuses to run without the secrets when there
is something to seal, and goes down again (opening the seals)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from credential_service.consent.service import open_receipt, open_request_body
from credential_service.labour.service import open_document
from credential_service.persistence import SealingSecrets, create_database_engine, migrate
from credential_service.persistence.database import alembic_config

DOCUMENT = "乙方: 李四光 身份证号 44030119900307123X".encode()
BODY = {"subject_reference": "张三丰 11010119900307555X", "contact": "tel:13700137000"}
RECEIPT = "eyJhbGciOiJFZERTQSJ9.eyJyZXF1ZXN0Ijp7fX0.c2lnbmF0dXJl"
SECRETS = SealingSecrets(labour=secrets.token_bytes(32), consent=secrets.token_bytes(32))


def _rows_before(engine: Engine) -> None:
    """A database at ``idempotency_0001`` with one clear document, request and token."""
    migrate(engine, "idempotency_0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO labour_contract_version (id, contract_id, version, relation, "
                "hr_operator, document, document_digest, media_type, filename, "
                "key_terms_sealed, key_terms_commitment, created_at) VALUES (1, 'c-1', 1, "
                "'original', 'HR-007', :document, '0x00', 'application/pdf', 'c.pdf', "
                ":sealed, '0x00', :now)"
            ),
            {"document": DOCUMENT, "sealed": b"\x00", "now": datetime.now(UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO consent_request (request_id, organisation_id, body, created_at, "
                "expires_at) VALUES ('r-1', 1, :body, 1, 2)"
            ),
            {
                "body": '{"subject_reference": "张三丰 11010119900307555X", '
                '"contact": "tel:13700137000"}'
            },
        )
        connection.execute(
            text(
                "INSERT INTO consent_receipt (id, consent_id, event, token, created_at) "
                "VALUES (1, '0xc1', 'grant', :token, :now)"
            ),
            {"token": RECEIPT, "now": datetime.now(UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO login_challenge (challenge_id, nonce, poll_secret_hash, "
                "created_at, expires_at, used_at, holder, pending_token) VALUES "
                "('ch-1', 'n-1', 'h', 1, 2, 1, '0xabc', 'eyJ.live.token')"
            )
        )


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_existing_rows_are_sealed_and_opened_again_on_the_way_down(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        _rows_before(engine)
        migrate(engine, sealing=SECRETS)
        assert "document" not in _columns(engine, "labour_contract_version")
        assert "body" not in _columns(engine, "consent_request")
        assert "pending_token" not in _columns(engine, "login_challenge")
        with engine.connect() as connection:
            sealed, size = connection.execute(
                text("SELECT document_sealed, document_size FROM labour_contract_version")
            ).one()
            body = connection.execute(text("SELECT body_sealed FROM consent_request")).scalar()
            waiting = connection.execute(
                text("SELECT pending_token_sha256 FROM login_challenge")
            ).scalar()
        assert DOCUMENT not in bytes(sealed) and size == len(DOCUMENT)
        assert open_document(SECRETS.labour, contract_id="c-1", version=1, sealed=sealed) == (
            DOCUMENT
        )
        assert b"13700137000" not in bytes(body)
        assert open_request_body(SECRETS.consent, request_id="r-1", sealed=body) == BODY
        assert waiting is None  # a token waiting at upgrade time is dropped, not kept
        with engine.connect() as connection:
            receipt = connection.execute(text("SELECT token_sealed FROM consent_receipt")).scalar()
        assert RECEIPT.encode() not in bytes(receipt)
        assert (
            open_receipt(SECRETS.consent, consent_id="0xc1", event="grant", sealed=receipt)
            == RECEIPT
        )

        config = alembic_config()
        config.attributes["sealing"] = SECRETS
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "idempotency_0001")
        with engine.connect() as connection:
            document = connection.execute(
                text("SELECT document FROM labour_contract_version")
            ).scalar()
            receipt = connection.execute(text("SELECT token FROM consent_receipt")).scalar()
        assert bytes(document) == DOCUMENT and receipt == RECEIPT
    finally:
        engine.dispose()


def test_rows_to_seal_without_the_secrets_stop_the_upgrade(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        _rows_before(engine)
        with pytest.raises(RuntimeError, match="must be sealed: run this migration through"):
            migrate(engine)
        assert "document" in _columns(engine, "labour_contract_version")  # nothing changed
    finally:
        engine.dispose()


def test_an_empty_database_needs_no_secrets(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine)
        assert "document_sealed" in _columns(engine, "labour_contract_version")
    finally:
        engine.dispose()
