"""No personal data and no bearer token in the clear in the database (#11.6).

A labour contract whose document and terms name the employee (ID number, phone; its signer's
e-card shows the same), a consent
request naming its data subject with a contact phone and its grant (whose receipt carries
the request), and QR logins (one collected by the
screen, one not); then the raw SQLite file (with its WAL) is scanned byte for byte, and on
PostgreSQL every column of every table as text. None of what the test sent may be found,
as UTF-8, as JSON escapes or as hex.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from credential_service.crypto_profile import CryptoProfile
from credential_service.models import OrganisationKind
from credential_service.sealing import SealAlgorithm, sealed_algorithm
from tests.fixtures.cards import card_subject
from tests.integration.credential_service.labour.harness import (
    WALLET_AUDIENCE,
    LabourService,
    open_labour_service,
    person,
)
from wallet_sdk.jose import read_unverified_header

EMPLOYEE_NAME = "李四光"
EMPLOYEE_ID_NUMBER = "440301199003071230"
EMPLOYEE_PHONE = "13912345678"
DOCUMENT = (
    "劳动合同书\n甲方: 深圳市示例科技有限公司\n"
    f"乙方: {EMPLOYEE_NAME} 身份证号 {EMPLOYEE_ID_NUMBER} 电话 {EMPLOYEE_PHONE}\n"
).encode()
SUBJECT_NAME = "张三丰"
SUBJECT_ID_NUMBER = "11010119900307555X"
CONTACT_PHONE = "13700137000"


@pytest.fixture(scope="module", params=list(CryptoProfile))
def at_rest_service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_backend: str,
    database_url_factory: Callable[[str], str],
) -> Iterator[LabourService]:
    yield from open_labour_service(
        tmp_path_factory.mktemp("at-rest"),
        database_url=database_url_factory(database_backend),
        crypto_profile=request.param,
    )


def _forms(needle: str) -> list[bytes]:
    """How a value can sit in the database: UTF-8, a JSON string (ASCII escapes), hex."""
    raw = needle.encode()
    return [raw, json.dumps(needle).strip('"').encode(), raw.hex().encode()]


def _sqlite_bytes(service: LabourService) -> bytes:
    database = service.context.engine.url.database
    assert database is not None
    files = [Path(database), Path(database + "-wal"), Path(database + "-journal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def _postgres_text(service: LabourService) -> bytes:
    """Every column of every table of the public schema, cast to text."""
    chunks: list[str] = []
    with service.context.engine.connect() as connection:
        columns = connection.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
            )
        ).all()
        for table, column in columns:
            values = connection.execute(text(f'SELECT "{column}"::text FROM "{table}"')).scalars()
            chunks.extend(value for value in values if value is not None)
    return "\n".join(chunks).encode()


def _screen_login(service: LabourService) -> tuple[str, str]:
    """A QR login the screen collects: (the wallet's token, the screen's token)."""
    wallet = service.wallet()
    service.cards.ensure_card(wallet)
    challenge = service.client.post("/v1/login/challenges").json()
    answer = wallet.answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )
    issued = service.client.post("/v1/login/responses", json={"response": answer})
    assert issued.status_code == 200, issued.text
    collected = service.client.post(
        f"/v1/login/challenges/{challenge['challenge_id']}/token",
        json={"poll_secret": challenge["poll_secret"]},
    )
    assert collected.status_code == 200, collected.text
    # the same claims and header (under SM2 another signature)
    signed_part = issued.json()["access_token"].rsplit(".", 1)[0]
    assert collected.json()["access_token"].rsplit(".", 1)[0] == signed_part
    return issued.json()["access_token"], collected.json()["access_token"]


def test_the_database_holds_no_personal_data_and_no_token(
    at_rest_service: LabourService,
) -> None:
    service = at_rest_service
    tokens: list[str] = list(_screen_login(service))
    # a labour contract naming the employee (name and ID number), signed by both parties with
    # the employee's e-card (the employee logs in without a screen)
    wallet = service.wallet({**person(1), "name": EMPLOYEE_NAME, "idNumber": EMPLOYEE_ID_NUMBER})
    employer_headers = service.employer_headers()
    tokens.append(employer_headers["Authorization"].removeprefix("Bearer "))
    contract = service.upload(wallet, DOCUMENT, hr_operator="HR-007")
    assert service.employer_signs(contract).status_code == 200
    employee_headers = service.login(wallet)
    tokens.append(employee_headers["Authorization"].removeprefix("Bearer "))
    assert service.employee_signs(contract["contract_id"], wallet).status_code == 200
    service.batcher.drain()
    document = service.client.get(
        f"/v1/labour-contracts/{contract['contract_id']}/document", headers=employer_headers
    )
    assert document.status_code == 200 and document.content == DOCUMENT  # still served
    # a consent request naming its data subject
    data_user, data_user_jwk = service.organisation(OrganisationKind.DATA_USER)
    data_user_headers = service.organisation_headers(data_user, data_user_jwk)
    tokens.append(data_user_headers["Authorization"].removeprefix("Bearer "))
    requested = service.client.post(
        "/v1/consent-requests",
        json={
            "purposes": ["recruitment"],
            "data_categories": ["identity"],
            "duration_seconds": 3600,
            "contact": f"tel:{CONTACT_PHONE}",
            "subject_id_number": SUBJECT_ID_NUMBER,
            "notice": "Checking the applicant.",
            "subject_reference": f"{SUBJECT_NAME} {SUBJECT_ID_NUMBER}",
        },
        headers=data_user_headers,
    )
    assert requested.status_code == 201, requested.text
    assert requested.json()["request"]["subject_reference"].startswith(SUBJECT_NAME)
    # the subject, holding their e-card, grants it: the receipt carries the request and the
    # e-card proof that discloses the ID number
    grantor = service.wallet()
    service.cards.activate(grantor, card_subject(SUBJECT_ID_NUMBER, name=SUBJECT_NAME))
    now = max(int(time.time()), service.chain.block().timestamp)
    request = grantor.review_consent(requested.json()["qr"], trusted_keys=service.trust, now=now)
    grantor_headers = service.login(grantor)
    tokens.append(grantor_headers["Authorization"].removeprefix("Bearer "))
    granted = service.client.post(
        "/v1/consents",
        json=grantor.grant_consent(request, now=now).to_json(),
        headers=grantor_headers,
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["subject_verified"] is True
    receipt = granted.json()["receipt"]
    tokens.append(receipt)
    mine = service.client.get("/v1/me/consents", headers=grantor_headers)
    assert mine.status_code == 200 and mine.json()[0]["receipts"] == [receipt]  # still served

    stored = (
        _sqlite_bytes(service)
        if service.context.engine.dialect.name == "sqlite"
        else _postgres_text(service)
    )
    assert len(stored) > 10_000  # the scan reads the data, not an empty file
    needles = [
        EMPLOYEE_NAME,
        EMPLOYEE_ID_NUMBER,
        EMPLOYEE_PHONE,
        SUBJECT_NAME,
        SUBJECT_ID_NUMBER,
        CONTACT_PHONE,
        *tokens,
    ]
    found = [needle[:24] for needle in needles if any(f in stored for f in _forms(needle))]
    assert found == []
    # what was sealed and signed, with the profile's algorithms
    algorithms = service.context.settings.crypto_profile.algorithms
    assert _sealed_with(service) == {algorithms.seal_algorithm}
    signing = algorithms.signing_curve.algorithm.value
    assert {read_unverified_header(token)["alg"] for token in tokens[:2]} == {signing}
    assert read_unverified_header(receipt)["alg"] == signing  # verified by the wallet above


def _sealed_with(service: LabourService) -> set[SealAlgorithm]:
    """The algorithm of every sealed value of the labour, consent and login tables."""
    columns = [
        ("labour_contract_version", "document_sealed"),
        ("labour_contract_version", "key_terms_sealed"),
        ("consent_request", "body_sealed"),
        ("consent_receipt", "token_sealed"),
    ]
    found: set[SealAlgorithm] = set()
    with service.context.engine.connect() as connection:
        for table, column in columns:
            values = connection.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
            assert values, f"nothing sealed in {table}.{column}"
            found |= {sealed_algorithm(bytes(value)) for value in values}
    return found
