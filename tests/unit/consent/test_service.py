"""The consent domain against an in-memory ledger: the reasons a check gives, the log every
check writes, and the relay's reject paths."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlmodel import Session, select

from credential_service.consent.models import ConsentRequestCreate, DataUseCheck
from credential_service.consent.service import (
    ConsentSigner,
    check_consent,
    create_consent_request,
    relay_grant,
    relay_withdrawal,
)
from credential_service.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from credential_service.models import Organisation
from tests.unit.consent.conftest import NOW, FakeLedger
from wallet_sdk.consent import ConsentRequest, sign_grant, sign_withdrawal

MakeOrg = Callable[..., Organisation]
MakeRequest = Callable[..., ConsentRequest]
HOLDER = secrets.token_bytes(32)


def _relay(session, ledger, signer, request, key=HOLDER, **choice):  # type: ignore[no-untyped-def]
    signed = sign_grant(request, private_key=key, now=NOW, **choice)
    relay_grant(
        session=session,
        ledger=ledger,
        signer=signer,
        holder=signed.terms.holder,
        payload=signed.to_json(),
        now=NOW,
    )
    return signed


def _check(session, ledger, data_user, signed, purpose="recruitment", now=NOW):  # type: ignore[no-untyped-def]
    return check_consent(
        session=session,
        ledger=ledger,
        data_user=data_user,
        consent_id=signed.consent_id,
        purpose=purpose,
        now=now,
    )


def test_check_reasons_and_log(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    user, other = make_org(), make_org()
    signed = _relay(session, ledger, signer, make_request(user), purposes=["recruitment"])
    assert _check(session, ledger, user, signed).reason == "granted"
    assert _check(session, ledger, other, signed).reason == "not_grantee"
    assert _check(session, ledger, user, signed, "skill-verification").reason == (
        "purpose_not_granted"
    )
    assert _check(session, ledger, user, signed, now=NOW + 2 * 86400).reason == "expired"
    ledger.inactive.add(signed.terms.grantee)
    assert _check(session, ledger, user, signed).reason == "grantee_not_active"
    logged = session.exec(select(DataUseCheck)).all()
    assert [(r.reason, r.allowed, r.holder) for r in logged] == [
        ("granted", True, signed.terms.holder),
        ("not_grantee", False, signed.terms.holder),
        ("purpose_not_granted", False, signed.terms.holder),
        ("expired", False, signed.terms.holder),
        ("grantee_not_active", False, signed.terms.holder),
    ]


def test_check_uses_the_later_of_now_and_block_time(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    user = make_org()
    signed = _relay(session, ledger, signer, make_request(user))
    ledger.block_time = NOW + 100  # the chain runs ahead of the service's clock
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=HOLDER)
    relay_withdrawal(
        session=session,
        ledger=ledger,
        signer=signer,
        holder=signed.terms.holder,
        consent_id=signed.consent_id,
        payload=withdrawal.to_json(),
        now=NOW,
    )
    assert _check(session, ledger, user, signed, now=NOW).reason == "withdrawn"


def test_chain_record_that_differs_is_a_mismatch(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    user = make_org()
    signed = _relay(session, ledger, signer, make_request(user))
    old = ledger.consents[signed.consent_id]
    ledger.consents[signed.consent_id] = replace(old, purpose_hash=secrets.token_bytes(32))
    assert _check(session, ledger, user, signed).reason == "record_mismatch"
    del ledger.consents[signed.consent_id]
    assert _check(session, ledger, user, signed).reason == "unknown_consent"


def test_only_active_data_users_check(
    session: Session, ledger: FakeLedger, make_org: MakeOrg
) -> None:
    for organisation in (make_org(kind="issuer"), make_org(status="suspended")):
        with pytest.raises(Forbidden, match="data user"):
            check_consent(
                session=session,
                ledger=ledger,
                data_user=organisation,
                consent_id=b"\x00" * 32,
                purpose="recruitment",
                now=NOW,
            )


def test_a_data_user_under_a_suspended_accreditor_neither_asks_nor_checks(
    session: Session, ledger: FakeLedger, signer: ConsentSigner, make_org: MakeOrg
) -> None:
    province = make_org(kind="province", status="suspended")
    user = make_org(accreditor=province)
    message = f"the data user is not active: the organisation's accreditor {province.credit_code}"
    with pytest.raises(Forbidden, match=message) as refused:
        check_consent(
            session=session,
            ledger=ledger,
            data_user=user,
            consent_id=b"\x00" * 32,
            purpose="recruitment",
            now=NOW,
        )
    assert refused.value.code == ErrorCode.TENANT_FORBIDDEN
    assert refused.value.detail == {"inactive": province.credit_code}
    with pytest.raises(Forbidden, match=message):
        create_consent_request(
            session=session,
            ledger=ledger,
            signer=signer,
            data_user=user,
            create=ConsentRequestCreate(
                purposes=["recruitment"],
                data_categories=["identity"],
                duration_seconds=3600,
                contact="privacy@data-user.example.cn",
                notice="n",
                subject_reference="s",
            ),
            now=NOW,
        )


def test_grant_with_used_nonce_is_a_replay(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    user = make_org()
    first = _relay(session, ledger, signer, make_request(user), nonce=7)
    with pytest.raises(Conflict, match="relayed already") as caught:
        _relay(session, ledger, signer, make_request(user), nonce=7)
    assert caught.value.code == "consent_replayed"
    assert first.terms.nonce == 7


def test_grant_for_unknown_request(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    request = replace(make_request(make_org()), request_id="unknown-request-1")
    with pytest.raises(NotFound) as caught:
        _relay(session, ledger, signer, request)
    assert caught.value.code == "consent_request_not_found"


def test_grant_for_another_registry_is_refused(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    request = make_request(make_org())
    elsewhere = replace(request, registry=replace(request.registry, chain_id=1))
    with pytest.raises(InvalidInput) as caught:
        _relay(session, ledger, signer, elsewhere)
    assert caught.value.code == "consent_grant_invalid"


def test_withdrawal_of_someone_elses_consent_is_not_found(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    signed = _relay(session, ledger, signer, make_request(make_org()))
    stranger = secrets.token_bytes(32)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=stranger)
    with pytest.raises(NotFound):
        relay_withdrawal(
            session=session,
            ledger=ledger,
            signer=signer,
            holder="0x" + "11" * 20,
            consent_id=signed.consent_id,
            payload=withdrawal.to_json(),
            now=NOW,
        )
    with pytest.raises(InvalidInput) as caught:
        relay_withdrawal(
            session=session,
            ledger=ledger,
            signer=signer,
            holder=signed.terms.holder,
            consent_id=signed.consent_id,
            payload=withdrawal.to_json(),
            now=NOW,
        )
    assert caught.value.code == "consent_signature_invalid"


def test_lost_race_for_the_nonce_is_a_replay(
    session: Session,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
    ledger: FakeLedger,
) -> None:
    class RacingLedger(FakeLedger):
        def nonce_used(self, *, holder: str, nonce: int) -> bool:
            return False  # the other relay has not landed when we look

    racing = RacingLedger()
    user = make_org()
    _relay(session, racing, signer, make_request(user), nonce=9)
    with pytest.raises(Conflict) as caught:
        _relay(session, racing, signer, make_request(user), nonce=9)
    assert caught.value.code == "consent_replayed"


def test_withdrawal_relayed_elsewhere_reaches_the_cardholders_view(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
) -> None:
    from credential_service.consent.service import list_holder_consents

    user = make_org()
    signed = _relay(session, ledger, signer, make_request(user))
    ledger.withdraw(consent_id=signed.consent_id, nonce=1, signature=b"")  # relayed by someone else
    assert _check(session, ledger, user, signed, now=ledger.block_time).reason == "withdrawn"
    [view] = list_holder_consents(session=session, signer=signer, holder=signed.terms.holder)
    assert view.state == "withdrawn" and view.withdrawn_at == ledger.block_time
