"""Idempotent issuance: ``POST /v1/credentials`` with an ``Idempotency-Key`` header, on SQLite
and PostgreSQL (the ``service`` fixture is parametrised by backend)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, update
from sqlmodel import Session, SQLModel, select

from credential_service.anchoring.outbox import ITEM
from credential_service.credentials import idempotency, issuance
from credential_service.credentials.models import (
    CredentialRecord,
    CredentialRequest,
    IdempotencyRecord,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import Conflict
from credential_service.models import Organisation, OrganisationKind, utc_now
from credential_service.persistence import create_database_engine, migrate
from node_adapter import TransactionReverted
from tests.integration.credential_service.conftest import Service, fresh_credit_code, sign_assertion
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT
from wallet_sdk.jose import Curve, Jwk

DIPLOMA = "TechnicalSchoolDiploma"


@dataclass
class Issuer:
    client_id: str
    headers: dict[str, str]


def diploma(number: str) -> dict[str, Any]:
    return {"type": DIPLOMA, "subject": {**DIPLOMA_SUBJECT, "diplomaNumber": number}}


def accredit_for_diplomas(service: Service, issuer: str) -> None:
    province = service.credential(OrganisationKind.PROVINCE).client_id
    response = service.client.put(
        f"/v1/credential-types/{DIPLOMA}/issuers/{issuer}",
        json={"allowed": True},
        headers=service.headers(province),
    )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def school(service: Service, runtime: CredentialRuntime) -> Issuer:
    """The demo school, accredited for diplomas."""
    client_id = service.credential(OrganisationKind.ISSUER).client_id
    accredit_for_diplomas(service, client_id)
    return Issuer(client_id, service.headers(client_id))


@pytest.fixture(scope="module")
def other_school(service: Service, runtime: CredentialRuntime) -> Issuer:
    """A second issuer under Guangdong, accredited for diplomas."""
    province = service.credential(OrganisationKind.PROVINCE).client_id
    key = Jwk.generate(Curve.ED25519)
    code = fresh_credit_code(440100, prefix="52")
    public = {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x")}
    created = service.client.post(
        "/v1/organisations",
        json={"name": "第二技工学校", "credit_code": code, "kind": "issuer", "region": 440100,
              "keys": [public]},
        headers=service.headers(province),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    accredit_for_diplomas(service, code)
    jwk = key.private_jwk() | {"kid": key.thumbprint_b64()}
    token = service.token_request(code, assertion=sign_assertion(jwk, client_id=code))
    assert token.status_code == 200, token.text
    return Issuer(code, {"Authorization": f"Bearer {token.json()['access_token']}"})


def post(service: Service, issuer: Issuer, body: Any, key: str | bytes | None) -> Any:
    headers: dict[str, Any] = dict(issuer.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return service.client.post("/v1/credentials", json=body, headers=headers)


def counts(service: Service, issuer: Issuer) -> tuple[int, int]:
    """(credential rows, anchoring outbox items) of the issuer."""
    with Session(service.context.engine) as session:
        organisation = session.exec(
            select(Organisation).where(Organisation.credit_code == issuer.client_id)
        ).one()
        credentials = session.exec(
            select(func.count())
            .select_from(CredentialRecord)
            .where(CredentialRecord.organisation_id == organisation.id)
        ).one()
        items = session.exec(
            select(func.count()).select_from(ITEM).where(ITEM.c.organisation_id == organisation.id)
        ).one()
    return int(credentials), int(items)


def stored_keys(service: Service, key: str) -> list[IdempotencyRecord]:
    with Session(service.context.engine) as session:
        rows = select(IdempotencyRecord).where(
            IdempotencyRecord.key_hash == idempotency.idempotency_row_key(key)
        )
        return list(session.exec(rows))


@pytest.fixture
def registrations(
    runtime: CredentialRuntime, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[int]]:
    """Counts the `StatusRegistry.register` transactions sent (credentials per call)."""
    calls: list[int] = []
    original = runtime.clients.status_registry.register

    def register(signer: Any, *, issuer: bytes, credential_ids: Any, digests: Any) -> Any:
        calls.append(len(credential_ids))
        return original(signer, issuer=issuer, credential_ids=credential_ids, digests=digests)

    monkeypatch.setattr(runtime.clients.status_registry, "register", register)
    yield calls


def fresh_key(name: str) -> str:
    return f"{name}-{fresh_credit_code(440100)}"


def test_replay_answers_the_same_credentials_and_issues_nothing(
    service: Service, school: Issuer, registrations: list[int]
) -> None:
    key = fresh_key("bulk")
    body = {"credentials": [diploma("I000000001"), diploma("I000000002"), diploma("I000000003")]}
    before = counts(service, school)
    first = post(service, school, body, key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert len(first.json()["credentials"]) == 3
    assert counts(service, school) == (before[0] + 3, before[1] + 3)
    assert registrations == [3]
    # the same request again, and the same request spelt differently (member order, a default
    # written out): the first answer, byte for byte, and nothing issued
    reordered = {
        "credentials": [
            {"subject": c["subject"], "format": "vc+jwt", "type": c["type"]}
            for c in body["credentials"]
        ]
    }
    for again in (body, reordered):
        replay = post(service, school, again, key)
        assert replay.status_code == 201, replay.text
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.content == first.content
    assert counts(service, school) == (before[0] + 3, before[1] + 3)
    assert registrations == [3]
    (row,) = stored_keys(service, key)
    assert row.response_status == 201
    # sealed at rest: neither the answer nor the subjects' data nor the key in the row
    stored = row.sealed_response + row.key_hash
    for clear in (first.text, "I000000001", first.json()["credentials"][0]["credential"], key):
        assert clear not in stored
    assert row.request_digest == idempotency.request_digest(
        [CredentialRequest.model_validate(c) for c in body["credentials"]]
    )


def test_a_single_credential_is_replayed_too(
    service: Service, school: Issuer, registrations: list[int]
) -> None:
    key = fresh_key("single")
    body = {"credentials": [diploma("I000000010")]}
    first = post(service, school, body, key)
    assert first.status_code == 201, first.text
    replay = post(service, school, body, key)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["credentials"][0]["id"] == first.json()["credentials"][0]["id"]
    assert (
        replay.json()["credentials"][0]["credential"]
        == first.json()["credentials"][0]["credential"]
    )
    assert registrations == [1]


def test_without_a_key_every_request_issues(
    service: Service, school: Issuer, registrations: list[int]
) -> None:
    body = {"credentials": [diploma("I000000020")]}
    first, second = post(service, school, body, None), post(service, school, body, None)
    assert first.status_code == second.status_code == 201
    assert first.json()["credentials"][0]["id"] != second.json()["credentials"][0]["id"]
    assert registrations == [1, 1]


def test_the_same_key_with_another_body_is_refused(
    service: Service, school: Issuer, registrations: list[int]
) -> None:
    key = fresh_key("reused")
    assert post(service, school, {"credentials": [diploma("I000000030")]}, key).status_code == 201
    before = counts(service, school)
    response = post(service, school, {"credentials": [diploma("I000000031")]}, key)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different request" in response.json()["message"]
    assert counts(service, school) == before
    assert registrations == [1]


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, b"caf\xc3\xa9", "tab\tinside", "nul\x01"],
    ids=["empty", "too-long", "non-ascii", "tab", "control"],
)
def test_a_malformed_key_is_refused(
    service: Service, school: Issuer, registrations: list[int], key: str | bytes
) -> None:
    before = counts(service, school)
    response = post(service, school, {"credentials": [diploma("I000000040")]}, key)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "idempotency_key_invalid"
    assert "printable ASCII" in response.json()["message"]
    assert counts(service, school) == before and registrations == []


def test_the_longest_key_and_every_printable_character_are_accepted(
    service: Service, school: Issuer
) -> None:
    printable = "".join(chr(c) for c in range(0x21, 0x7F))
    for key in (fresh_key("x" * 230)[-255:], printable + fresh_key("")):
        response = post(service, school, {"credentials": [diploma("I000000050")]}, key)
        assert response.status_code == 201, (key, response.text)


def test_keys_are_scoped_per_organisation(
    service: Service, school: Issuer, other_school: Issuer, registrations: list[int]
) -> None:
    key = fresh_key("shared")
    first = post(service, school, {"credentials": [diploma("I000000060")]}, key)
    # the other issuer, the same key, another body: no conflict, its own credentials
    other = post(service, other_school, {"credentials": [diploma("I000000061")]}, key)
    assert first.status_code == other.status_code == 201, other.text
    assert "idempotent-replayed" not in other.headers
    # and the same body under the same key is no replay across organisations either
    same = post(service, other_school, {"credentials": [diploma("I000000060")]}, fresh_key("o"))
    assert same.status_code == 201
    assert len({r.json()["credentials"][0]["id"] for r in (first, other, same)}) == 3
    assert registrations == [1, 1, 1]
    assert len(stored_keys(service, key)) == 2
    assert post(service, other_school, {"credentials": [diploma("I000000061")]}, key).content == (
        other.content
    )


def test_a_failed_issuance_stores_no_key_and_a_retry_issues(
    service: Service,
    school: Issuer,
    runtime: CredentialRuntime,
    registrations: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = fresh_key("rejected")
    body = {"credentials": [diploma("I000000070"), diploma("I000000071")]}
    counting = runtime.clients.status_registry.register

    def rejected(signer: Any, *, issuer: bytes, credential_ids: Any, digests: Any) -> Any:
        raise TransactionReverted("CredentialExists()", error_name="CredentialExists")

    before = counts(service, school)
    monkeypatch.setattr(runtime.clients.status_registry, "register", rejected)
    response = post(service, school, body, key)
    assert response.status_code == 409 and response.json()["code"] == "chain_rejected"
    assert stored_keys(service, key) == [] and counts(service, school) == before
    monkeypatch.setattr(runtime.clients.status_registry, "register", counting)
    retry = post(service, school, body, key)
    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert counts(service, school) == (before[0] + 2, before[1] + 2)
    assert registrations == [2] and len(stored_keys(service, key)) == 1


def test_a_request_whose_key_is_in_flight_is_refused(
    service: Service,
    school: Issuer,
    runtime: CredentialRuntime,
    registrations: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = fresh_key("in-flight")
    body = {"credentials": [diploma("I000000080")]}
    entered, release = threading.Event(), threading.Event()
    counting = runtime.clients.status_registry.register

    def slow(signer: Any, *, issuer: bytes, credential_ids: Any, digests: Any) -> Any:
        entered.set()
        assert release.wait(30)
        return counting(signer, issuer=issuer, credential_ids=credential_ids, digests=digests)

    monkeypatch.setattr(runtime.clients.status_registry, "register", slow)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, service, school, body, key)
        assert entered.wait(30)
        try:
            second = post(service, school, body, key)
        finally:
            release.set()
        done = first.result(timeout=60)
    assert second.status_code == 409, second.text
    assert second.json()["code"] == "idempotency_key_in_flight"
    assert done.status_code == 201 and "idempotent-replayed" not in done.headers
    replay = post(service, school, body, key)
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == done.content
    assert registrations == [1]


def test_losing_a_race_to_another_process_answers_the_winners_response(
    service: Service,
    school: Issuer,
    runtime: CredentialRuntime,
    registrations: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process commits the key while this one is at the chain (possible on SQLite,
    which has no advisory lock): the primary key refuses the second row at commit, this
    request's credentials are rolled back and the stored answer is returned."""
    key = fresh_key("race")
    body = {"credentials": [diploma("I000000090")]}
    digest = idempotency.request_digest(
        [CredentialRequest.model_validate(c) for c in body["credentials"]]
    )
    winner = '{"credentials":[],"winner":true}'
    counting = runtime.clients.status_registry.register
    with Session(service.context.engine) as session:
        organisation_id = session.exec(
            select(Organisation.id).where(Organisation.credit_code == school.client_id)
        ).one()
    assert organisation_id is not None

    def meanwhile(signer: Any, *, issuer: bytes, credential_ids: Any, digests: Any) -> Any:
        with Session(service.context.engine) as other:
            other.add(
                IdempotencyRecord(
                    organisation_id=organisation_id,
                    key_hash=idempotency.idempotency_row_key(key),
                    request_digest=digest,
                    response_status=201,
                    sealed_response=idempotency.seal_answer(
                        secret=service.context.idempotency_secret,
                        organisation_id=organisation_id,
                        key=key,
                        digest=digest,
                        body=winner,
                    ),
                    created_at=utc_now(),
                    expires_at=2**40,
                )
            )
            other.commit()
        return counting(signer, issuer=issuer, credential_ids=credential_ids, digests=digests)

    before = counts(service, school)
    monkeypatch.setattr(runtime.clients.status_registry, "register", meanwhile)
    response = post(service, school, body, key)
    assert response.status_code == 201, response.text
    assert response.headers["idempotent-replayed"] == "true" and response.text == winner
    assert counts(service, school) == before and registrations == [1]


def test_a_key_answered_while_this_request_was_signing_is_replayed_before_the_chain(
    service: Service,
    school: Issuer,
    registrations: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process commits the key after this request looked it up but before it takes
    the key (it is still signing): the second look, under the claim, finds it, and nothing
    reaches the chain."""
    key = fresh_key("late")
    body = {"credentials": [diploma("I000000095")]}
    digest = idempotency.request_digest(
        [CredentialRequest.model_validate(c) for c in body["credentials"]]
    )
    winner = '{"credentials":[],"late":true}'
    original = issuance.current_signing_key

    def meanwhile(**kwargs: Any) -> Any:
        issuer = kwargs["issuer"]
        with Session(service.context.engine) as other:
            other.add(
                IdempotencyRecord(
                    organisation_id=issuer.id,
                    key_hash=idempotency.idempotency_row_key(key),
                    request_digest=digest,
                    response_status=201,
                    sealed_response=idempotency.seal_answer(
                        secret=service.context.idempotency_secret,
                        organisation_id=issuer.id,
                        key=key,
                        digest=digest,
                        body=winner,
                    ),
                    created_at=utc_now(),
                    expires_at=2**40,
                )
            )
            other.commit()
        return original(**kwargs)

    before = counts(service, school)
    monkeypatch.setattr(issuance, "current_signing_key", meanwhile)
    response = post(service, school, body, key)
    assert response.status_code == 201, response.text
    assert response.headers["idempotent-replayed"] == "true" and response.text == winner
    assert counts(service, school) == before and registrations == []
    other_body = {"credentials": [diploma("I000000096")]}
    refused = post(service, school, other_body, key)
    assert refused.status_code == 422 and refused.json()["code"] == "idempotency_key_reused"


def test_an_expired_key_is_forgotten(
    service: Service, school: Issuer, registrations: list[int]
) -> None:
    key = fresh_key("expired")
    first = post(service, school, {"credentials": [diploma("I000000100")]}, key)
    assert first.status_code == 201
    with Session(service.context.engine) as session:
        session.exec(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.key_hash  # type: ignore[arg-type]
                == idempotency.idempotency_row_key(key)
            )
            .values(expires_at=1)
        )
        session.commit()
    # another body under the expired key: a new request, not a reuse
    second = post(service, school, {"credentials": [diploma("I000000101")]}, key)
    assert second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["credentials"][0]["id"] != first.json()["credentials"][0]["id"]
    (row,) = stored_keys(service, key)
    assert row.expires_at > time.time()
    assert registrations == [1, 1]


def test_the_key_lifetime_comes_from_the_settings(service: Service, school: Issuer) -> None:
    assert service.context.settings.idempotency_key_ttl_seconds == 86_400
    key = fresh_key("ttl")
    sent = int(time.time())
    assert post(service, school, {"credentials": [diploma("I000000110")]}, key).status_code == 201
    answered = int(time.time())
    (row,) = stored_keys(service, key)
    assert sent + 86_400 <= row.expires_at <= answered + 86_400


def test_postgres_serialises_the_key_across_processes(service: Service) -> None:
    """The advisory lock: a second database session (another process) working on the same
    key is refused while the first holds it, and takes it once the first has committed."""
    claim: Callable[[Session, int, str], None] = idempotency._claim_across_processes
    engine = service.context.engine
    with Session(engine) as first, Session(engine) as second:
        claim(first, 1, "shared-key")
        if service.backend == "sqlite":
            claim(second, 1, "shared-key")  # no advisory lock: the primary key settles races
            return
        with pytest.raises(Conflict) as refused:
            claim(second, 1, "shared-key")
        assert refused.value.code == "idempotency_key_in_flight"
        second.rollback()
        claim(second, 2, "shared-key")  # another organisation's key is another lock
        first.commit()
        second.rollback()
        claim(second, 1, "shared-key")


def test_the_migration_creates_the_table_the_model_describes(
    database_url_factory: Callable[[str], str], service: Service
) -> None:
    engine = create_database_engine(database_url_factory(service.backend))
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [
                d
                for d in compare_metadata(context, SQLModel.metadata)
                if "credential_idempotency_key" in repr(d)
            ]
        assert differences == []
    finally:
        engine.dispose()


def test_a_stored_answer_opens_only_with_the_sealing_secret_it_was_sealed_with(
    service: Service,
    school: Issuer,
    registrations: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = fresh_key("sealed")
    body = {"credentials": [diploma("I000000110")]}
    first = post(service, school, body, key)
    assert first.status_code == 201, first.text
    monkeypatch.setattr(service.context, "idempotency_secret", b"\x07" * 32)
    lost = post(service, school, body, key)
    assert lost.status_code == 409, lost.text
    assert lost.json()["code"] == "idempotency_answer_unreadable"
    assert registrations == [1]  # nothing issued again either
    monkeypatch.undo()
    again = post(service, school, body, key)
    assert again.status_code == 201 and again.content == first.content
