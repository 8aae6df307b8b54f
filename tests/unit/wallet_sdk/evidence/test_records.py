"""Lifecycle records, signatures, key-terms commitments and the package format, offline."""

from __future__ import annotations

import json
import re
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from wallet_sdk.errors import FormatError, SignatureError
from wallet_sdk.evidence import (
    EventKind,
    EventRecord,
    EventSignature,
    EvidencePackage,
    KeyTerms,
    Relation,
    Role,
    employer_entity_id,
    event_digest,
    pending_record,
    sign_as_employee,
    sign_as_employer,
)
from wallet_sdk.jose import Curve, Jwk, b64url_decode
from wallet_sdk.wallet import Wallet

ASSETS = Path(__file__).parents[3] / "assets" / "wallet_sdk"
HEX = "0x" + "ab" * 32


def _offer(**changes: Any) -> EventRecord:
    fields: dict[str, Any] = {
        "contract_id": str(uuid.uuid4()),
        "sequence": 0,
        "previous": None,
        "event": EventKind.EMPLOYER_SIGNED,
        "version": 1,
        "document_digest": HEX,
        "key_terms_commitment": HEX,
        "at": 1_800_000_000,
        "employer": HEX,
        "hr_operator": "人事专员 李娜",
        "employee": "did:jwk:abc",
        "employee_identity": HEX,
        "relation": Relation.ORIGINAL,
        "supersedes": None,
    }
    fields.update(changes)
    return EventRecord(**fields)


def test_record_round_trips_and_its_digest_covers_every_member() -> None:
    record = _offer()
    assert EventRecord.from_dict(record.to_dict()) == record
    assert _offer(hr_operator="someone else").digest() != record.digest()
    assert record.signer_role is Role.EMPLOYER
    assert record.purpose == "labour-contract:employer_signed"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"contract_id": "not-a-uuid"}, "contract_id"),
        ({"sequence": 1}, "previous is null exactly for the first event"),
        ({"version": 0}, "version must be an integer"),
        ({"document_digest": "0xAB"}, "document_digest"),
        ({"employee": "0x1234"}, "did:jwk"),
        ({"employee_identity": None}, "employee_identity"),
        ({"employee_identity": "张三"}, "employee_identity"),
        ({"relation": Relation.AMENDMENT}, "version 1 is the original"),
        ({"version": 2, "relation": Relation.RENEWAL}, "supersedes names the previous"),
        ({"offer": HEX}, "offer does not belong"),
        ({"event": "signed"}, "unknown event"),
        ({"at": True}, "at must be an integer"),
    ],
)
def test_malformed_records_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        _offer(**changes)


def test_record_parsing_refuses_unknown_and_missing_members() -> None:
    data = _offer().to_dict()
    with pytest.raises(FormatError, match="unexpected"):
        EventRecord.from_dict({**data, "wage": "1"})
    del data["hr_operator"]
    with pytest.raises(FormatError, match="missing"):
        EventRecord.from_dict(data)
    with pytest.raises(FormatError, match="record type"):
        EventRecord.from_dict({**_offer().to_dict(), "type": "other/1"})


def test_termination_needs_a_reason_and_a_date() -> None:
    base = {k: v for k, v in _offer().to_dict().items() if k in (
        "contract_id", "version", "document_digest", "key_terms_commitment", "at")}  # fmt: skip
    fields = {**base, "sequence": 2, "previous": HEX, "event": "terminated",
              "terminated_by": "employee", "reason_code": "employee-notice",
              "reason": "提前三十日通知", "effective_date": "2028-01-31"}  # fmt: skip
    assert EventRecord(**fields).signer_role is Role.EMPLOYEE
    with pytest.raises(FormatError, match="effective_date"):
        EventRecord(**{**fields, "effective_date": "31.01.2028"})
    with pytest.raises(FormatError, match="terminated_by"):
        EventRecord(**{**fields, "terminated_by": "court"})


def test_key_terms_commitment_is_salted_and_validated() -> None:
    terms = {"position": "焊工", "monthly_wage_fen": 800_000}
    first, second = KeyTerms.new(terms), KeyTerms.new(terms)
    assert first.commitment() != second.commitment()  # a wage cannot be guessed from it
    assert KeyTerms(terms, first.salt).commitment() == first.commitment()
    with pytest.raises(FormatError):
        KeyTerms({}, first.salt)
    with pytest.raises(FormatError):
        KeyTerms({"wage": 1.5}, first.salt)  # type: ignore[dict-item]
    with pytest.raises(FormatError):
        KeyTerms(terms, b"short")


def test_employer_signature_names_the_thumbprint_and_signs_the_record_digest() -> None:
    key = Jwk.generate(Curve.P256)
    entity = employer_entity_id("91110105MA01ABCD13")
    record = _offer(employer="0x" + entity.hex())
    signature = sign_as_employer(record, key=key, entity_id=entity)
    assert signature.key_id == "0x" + key.thumbprint().hex()
    header = json.loads(b64url_decode(signature.jws.split(".")[0]))
    assert header["alg"] == "ES256" and header["typ"] == "hrss-digest-sig+jwt"
    claims = json.loads(b64url_decode(signature.jws.split(".")[1]))
    assert claims["digest"] == record.digest().hex()
    assert event_digest(record.digest(), signature.jws) != record.digest()


def test_parties_can_only_sign_their_own_records(tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "w", "pass", scrypt_n=2**10)
    with pytest.raises(SignatureError, match="employee does not sign"):
        sign_as_employee(_offer(), wallet=wallet)
    accept = EventRecord(**{**{k: v for k, v in _offer().to_dict().items() if k in (
        "contract_id", "version", "document_digest", "key_terms_commitment", "at")},
        "sequence": 1, "previous": HEX, "event": "employee_signed", "employee": "did:jwk:other",
        "offer": HEX})  # fmt: skip
    with pytest.raises(SignatureError, match="employer does not sign"):
        sign_as_employer(accept, key=Jwk.generate(Curve.ED25519), entity_id=bytes(32))
    with pytest.raises(SignatureError, match="names another employee"):
        sign_as_employee(accept, wallet=wallet)
    own = EventRecord.from_dict({**accept.to_dict(), "employee": wallet.did})
    with pytest.raises(SignatureError, match="signed with the e-card"):
        sign_as_employee(own, wallet=wallet)  # an acceptance without the e-card


def test_signature_members_are_checked() -> None:
    with pytest.raises(FormatError, match="key id"):
        EventSignature(
            role=Role.EMPLOYEE, signer="did:jwk:abc", key_id="did:jwk:xyz#0", jws="a.b.c"
        )
    with pytest.raises(FormatError, match="compact JWS"):
        EventSignature(role=Role.EMPLOYER, signer=HEX, key_id=HEX, jws="nope")
    with pytest.raises(FormatError, match="exactly"):
        EventSignature.from_dict({"role": "employer", "signer": HEX, "key_id": HEX})
    with pytest.raises(FormatError, match="no card proof"):
        EventSignature(role=Role.EMPLOYER, signer=HEX, key_id=HEX, jws="a.b.c", card_proof="x~")
    with pytest.raises(FormatError, match="SD-JWT presentation"):
        EventSignature(
            role=Role.EMPLOYEE,
            signer="did:jwk:a",
            key_id="did:jwk:a#0",
            jws="a.b.c",
            card_proof="x",
        )
    # the card proof is sealed into the anchored digest: it cannot be swapped afterwards
    assert event_digest(bytes(32), "a.b.c", "x~y") != event_digest(bytes(32), "a.b.c", "x~z")
    assert event_digest(bytes(32), "a.b.c", "x~y") != event_digest(bytes(32), "a.b.c")


def test_schema_is_valid_and_the_example_package_matches_it() -> None:
    text = resources.files("wallet_sdk").joinpath("schemas/evidence-1.schema.json").read_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    example = (ASSETS / "evidence-1.example.json").read_text(encoding="utf-8")
    jsonschema.Draft202012Validator(schema).validate(json.loads(example))
    package = EvidencePackage.parse(example)
    assert [e.record.event for e in package.events] == [
        EventKind.EMPLOYER_SIGNED, EventKind.EMPLOYEE_SIGNED, EventKind.TERMINATED,
    ]  # fmt: skip
    assert json.loads(package.to_json()) == json.loads(example)


def test_the_pending_record_is_the_one_for_the_role_with_the_signing_time() -> None:
    offer = _offer()
    contract = {"pending": {"role": "employer", "record": offer.to_dict(), "purpose": "x"}}
    record = pending_record(contract, role=Role.EMPLOYER, at=1_800_000_123)
    assert record == _offer(contract_id=offer.contract_id, at=1_800_000_123)
    waiting = re.escape("nothing waits for the employee's signature (the employer signs next)")
    with pytest.raises(FormatError, match=waiting):
        pending_record(contract, role=Role.EMPLOYEE, at=1)
    with pytest.raises(FormatError, match=r"^nothing waits for the employer's signature$"):
        pending_record({"pending": None}, role=Role.EMPLOYER, at=1)
    with pytest.raises(FormatError, match="the pending record is not a JSON object"):
        pending_record({"pending": {"role": "employer", "record": "x"}}, role=Role.EMPLOYER, at=1)
    broken = {"pending": {"role": "employer", "record": {**offer.to_dict(), "extra": 1}}}
    with pytest.raises(FormatError, match="unexpected \\['extra'\\]"):
        pending_record(broken, role=Role.EMPLOYER, at=1)
