"""Labour contracts signed by the named employee, through the HTTP API (in-process chain,
SQLite and PostgreSQL): the employer names the employee by name and ID number (sealed at
rest, a salted commitment in the offer); the employee's acceptance carries an e-card proof
bound to the record and the signing key; every way it is refused, each with its code. The
whole scenario over anvil is ``tests/e2e/test_contract_employee_identity.py``."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from credential_service.persistence import create_database_engine, migrate
from tests.integration.credential_service.labour.harness import LabourService, person
from wallet_sdk.credentials.card_proof import present_card
from wallet_sdk.evidence import (
    CONTRACT_CARD_AUDIENCE,
    EMPLOYEE_IDENTITY_CLAIMS,
    employee_card_nonce,
    sign_as_employee,
)
from wallet_sdk.wallet import Wallet


def _accept(
    service: LabourService,
    contract_id: str,
    wallet: Wallet,
    headers: dict[str, str] | None = None,
    **submission: Any,
) -> Any:
    """The employee's acceptance, with `submission` replacing what the wallet would send;
    logged in with `headers` (default: a login now)."""
    headers = headers or service.login(wallet)
    review = service.client.get(f"/v1/me/labour-contracts/{contract_id}", headers=headers)
    assert review.status_code == 200, review.text
    record = service.pending_record(review.json())
    signature = sign_as_employee(record, wallet=wallet, card=wallet.social_security_card().token)
    body = {"jws": signature.jws, "card_proof": signature.card_proof, **submission}
    if "make_proof" in body:
        body["card_proof"] = body.pop("make_proof")(record)
    return service.client.post(
        f"/v1/me/labour-contracts/{contract_id}/signature", json=body, headers=headers
    )


def _offered(service: LabourService, wallet: Wallet, **named: str) -> str:
    contract = service.upload(wallet, **named)
    assert contract["employee_identity"].startswith("0x")
    assert service.employer_signs(contract).status_code == 200
    return str(contract["contract_id"])


def _proof(
    card_of: Wallet,
    key_of: Wallet,
    *,
    nonce: str | None = None,
    disclose: tuple[str, ...] = EMPLOYEE_IDENTITY_CLAIMS,
) -> Any:
    """A maker of e-card proofs for a record: the card of `card_of`, key-bound with the key
    of `key_of` to `nonce` (default: the record's)."""

    def make(record: Any) -> str:
        return present_card(
            card_of.social_security_card().token,
            holder_key=key_of.credential_key,
            disclose=disclose,
            nonce=nonce or employee_card_nonce(record),
            audience=CONTRACT_CARD_AUDIENCE,
            issued_at=record.at,
        )

    return make


def _refused(response: Any, status: int, code: str, check: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    if check is not None:
        assert body["detail"] == {"check": check}


def test_the_named_employee_signs_and_the_evidence_shows_them(
    labour_service: LabourService,
) -> None:
    service = labour_service
    wallet = service.wallet()
    contract_id = service.signed_contract(wallet)
    evidence = service.evidence(contract_id)
    report = service.client.post(
        "/v1/evidence/verify",
        files={"package": ("evidence.json", evidence, "application/json")},
    ).json()
    assert report["verdict"] == "verified", report["first_failure"]
    check = next(c for c in report["checks"] if c["name"] == "employee_identity")
    assert check["status"] == "passed" and check["code"] == "employee_identity.ok"
    named = service.people[wallet.did]
    shown = report["employee_identity"]
    assert shown["name"] == named["name"]
    assert shown["id_number_masked"] == named["idNumber"][:6] + "********" + named["idNumber"][-4:]
    assert named["idNumber"] not in str(report)
    # the name and ID number are sealed at rest: neither is in the contract's row
    with service.context.engine.connect() as connection:
        row = connection.execute(
            text("select * from labour_contract where id = :id"), {"id": contract_id}
        ).one()
    stored = repr(tuple(row)).encode() + b"".join(
        bytes(v) for v in row if isinstance(v, bytes | memoryview)
    )
    for value in (named["name"], named["idNumber"]):
        assert value.encode() not in stored and value not in repr(tuple(row))


def test_a_wallet_holding_another_persons_card_is_employee_mismatch(
    labour_service: LabourService,
) -> None:
    """The bug of the issue: the employer named one person and another person's wallet."""
    service = labour_service
    wallet = service.wallet()  # holds the e-card of its own person
    someone_else = person(900)
    contract_id = _offered(
        service,
        wallet,
        employee_name=someone_else["name"],
        employee_id_number=someone_else["idNumber"],
    )
    _refused(_accept(service, contract_id, wallet), 403, "employee_mismatch", "employee_mismatch")


def test_a_proof_by_another_cardholder_is_employee_mismatch(
    labour_service: LabourService,
) -> None:
    """The named person's card presented with their key, under another wallet's signature."""
    service = labour_service
    signer, cardholder = service.wallet(), service.wallet()
    named = service.people[cardholder.did]
    contract_id = _offered(
        service, signer, employee_name=named["name"], employee_id_number=named["idNumber"]
    )
    response = _accept(service, contract_id, signer, make_proof=_proof(cardholder, cardholder))
    _refused(response, 403, "employee_mismatch", "signing_key")


def test_a_card_bound_to_another_key_does_not_verify(labour_service: LabourService) -> None:
    service = labour_service
    signer, other = service.wallet(), service.wallet()
    contract_id = _offered(service, signer)
    # the other wallet's card, key-bound with the signer's key
    response = _accept(service, contract_id, signer, make_proof=_proof(other, signer))
    _refused(response, 400, "card_proof_invalid", "holder_binding")


def test_no_proof_or_a_proof_for_another_record_is_refused(
    labour_service: LabourService,
) -> None:
    service = labour_service
    wallet = service.wallet()
    contract_id = _offered(service, wallet)
    _refused(_accept(service, contract_id, wallet, card_proof=None), 400, "card_proof_required")
    for_login = _proof(wallet, wallet, nonce="a-login-challenge")
    response = _accept(service, contract_id, wallet, make_proof=for_login)
    _refused(response, 400, "card_proof_invalid", "holder_binding")
    name_only = _proof(wallet, wallet, disclose=("name",))
    response = _accept(service, contract_id, wallet, make_proof=name_only)
    _refused(response, 400, "card_proof_invalid", "card")
    # nothing was accepted: the offer still waits for the employee
    assert service.employee_signs(contract_id, wallet).status_code == 200


def test_a_lost_card_cannot_sign(labour_service: LabourService) -> None:
    service = labour_service
    wallet = service.wallet(card=False)
    card_id = service.activate_card(wallet, service.people[wallet.did])
    contract_id = _offered(service, wallet)
    headers = service.login(wallet)  # logged in before the loss: the signature is refused
    service.report_card_lost(card_id)
    _refused(_accept(service, contract_id, wallet, headers), 403, "card_not_active", "status")


def test_the_migration_adds_the_columns_the_model_describes(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [
                d
                for d in compare_metadata(context, SQLModel.metadata)
                if "employee_identity" in repr(d)
            ]
            columns = {c["name"] for c in inspect(connection).get_columns("labour_contract")}
        assert differences == []
        assert {"employee_identity_sealed", "employee_identity_commitment"} <= columns
    finally:
        engine.dispose()


def test_a_card_whose_issuer_is_suspended_cannot_sign(labour_service: LabourService) -> None:
    """The card verifies as of its issue time; its issuer must still be accredited now."""
    service = labour_service
    wallet = service.wallet()
    contract_id = _offered(service, wallet)
    centre, _ = service.card_centre()
    province = service.organisation_headers(service.province, service.province_jwk)

    def set_status(status: str) -> None:
        answer = service.client.post(
            f"/v1/organisations/{centre}/status",
            json={"status": status, "reason": 3},
            headers=province,
        )
        assert answer.status_code == 200, answer.text

    headers = service.login(wallet)  # logged in before the suspension
    set_status("suspended")
    try:
        refused = _accept(service, contract_id, wallet, headers)
    finally:
        set_status("active")
    _refused(refused, 403, "card_not_active", "issuer_active")
    assert service.employee_signs(contract_id, wallet).status_code == 200
