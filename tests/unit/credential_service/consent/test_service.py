"""The consent domain against an in-memory ledger: the reasons a check gives, the log every
check writes, and the relay's reject paths."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlmodel import Session, select

from credential_service.consent.models import ConsentRecord, ConsentRequestCreate, DataUseCheck
from credential_service.consent.service import (
    ConsentSigner,
    check_consent,
    create_consent_request,
    relay_grant,
    relay_withdrawal,
)
from credential_service.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from credential_service.models import Organisation
from tests.fixtures.cards import card_subject, citizen_id
from tests.unit.credential_service.consent.conftest import NOW, SUBJECT_ID_NUMBER, ECard, FakeLedger
from tests.unit.wallet_sdk.credentials.world import DemoIssuer, TrustWorld
from wallet_sdk.consent import ConsentRequest, SignedConsent, sign_grant, sign_withdrawal
from wallet_sdk.credentials import CredentialVerifier
from wallet_sdk.jose import Curve, Jwk

MakeOrg = Callable[..., Organisation]
MakeRequest = Callable[..., ConsentRequest]
HOLDER = secrets.token_bytes(32)


Relay = Callable[..., SignedConsent]
NOBODY = "nobody"
"""`relay(..., proof_of=NOBODY)`: a grant without an e-card proof."""


@pytest.fixture
def relay(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    e_card: Callable[[str], ECard],
    card_verifier: CredentialVerifier,
) -> Relay:
    """Sign a grant answering a request with `key`, attach the e-card proof of `card` or else
    of `proof_of`'s card (the request's data subject unless told otherwise) and relay it to
    `on` (the ledger)."""

    def relay(
        request: ConsentRequest,
        *,
        key: bytes = HOLDER,
        proof_of: str = SUBJECT_ID_NUMBER,
        card: ECard | None = None,
        on: FakeLedger = ledger,
        **choice: Any,
    ) -> SignedConsent:
        signed = sign_grant(request, private_key=key, now=NOW, **choice)
        if card is not None or proof_of != NOBODY:
            signed = (card or e_card(proof_of)).prove(signed, request)
        relay_grant(
            session=session,
            ledger=on,
            signer=signer,
            card_verifier=card_verifier,
            holder=signed.terms.holder,
            payload=signed.to_json(),
            now=NOW,
        )
        return signed

    return relay


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
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    user, other = make_org(), make_org()
    signed = relay(make_request(user), purposes=["recruitment"])
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


@pytest.mark.parametrize(
    "proof_of", [NOBODY, citizen_id(7)], ids=["without-proof", "another-persons-proof"]
)
def test_a_grant_not_proven_the_subjects_is_relayed_but_every_check_is_a_subject_mismatch(
    session: Session,
    ledger: FakeLedger,
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
    proof_of: str,
) -> None:
    user = make_org()
    signed = relay(make_request(user), proof_of=proof_of)
    assert signed.consent_id in ledger.consents  # the holder did sign it: relayed all the same
    record = session.get(ConsentRecord, "0x" + signed.consent_id.hex())
    assert record is not None
    assert (record.subject_verified, record.subject_check) == (False, "subject")
    for purpose in ("recruitment", "skill-verification"):
        checked = _check(session, ledger, user, signed, purpose)
        assert (checked.allowed, checked.reason) == (False, "subject_mismatch")
    logged = session.exec(select(DataUseCheck)).all()
    assert [(r.reason, r.allowed) for r in logged] == [("subject_mismatch", False)] * 2


def test_a_forged_e_card_of_the_subject_is_a_subject_mismatch_naming_the_failed_check(
    session: Session,
    ledger: FakeLedger,
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
    world: TrustWorld,
    card_centre: DemoIssuer,
) -> None:
    user = make_org()
    request = make_request(user)
    credential_key = Jwk.generate(Curve.ED25519)
    forged = world.issue(  # the card centre's name, a key the chain never registered
        card_centre,
        "SocialSecurityCard",
        card_subject(SUBJECT_ID_NUMBER),
        sd=True,
        holder_key=credential_key,
        key=Jwk.generate(Curve.ED25519),
    )
    signed = relay(request, card=ECard(forged.token, credential_key))
    record = session.get(ConsentRecord, "0x" + signed.consent_id.hex())
    assert record is not None
    assert (record.subject_verified, record.subject_check) == (False, "key_valid")
    assert _check(session, ledger, user, signed).reason == "subject_mismatch"


def test_check_uses_the_later_of_now_and_block_time(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    user = make_org()
    signed = relay(make_request(user))
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
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    user = make_org()
    signed = relay(make_request(user))
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
                subject_id_number=SUBJECT_ID_NUMBER,
            ),
            now=NOW,
        )


def test_grant_with_used_nonce_is_a_replay(
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    user = make_org()
    first = relay(make_request(user), nonce=7)
    with pytest.raises(Conflict, match="relayed already") as caught:
        relay(make_request(user), nonce=7)
    assert caught.value.code == "consent_replayed"
    assert first.terms.nonce == 7


def test_grant_for_unknown_request(
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    request = replace(make_request(make_org()), request_id="unknown-request-1")
    with pytest.raises(NotFound) as caught:
        relay(request)
    assert caught.value.code == "consent_request_not_found"


def test_grant_for_another_registry_is_refused(
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    request = make_request(make_org())
    elsewhere = replace(request, registry=replace(request.registry, chain_id=1))
    with pytest.raises(InvalidInput) as caught:
        relay(elsewhere)
    assert caught.value.code == "consent_grant_invalid"


def test_withdrawal_of_someone_elses_consent_is_not_found(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    signed = relay(make_request(make_org()))
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
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    class RacingLedger(FakeLedger):
        def nonce_used(self, *, holder: str, nonce: int) -> bool:
            return False  # the other relay has not landed when we look

    racing = RacingLedger()
    user = make_org()
    relay(make_request(user), on=racing, nonce=9)
    with pytest.raises(Conflict) as caught:
        relay(make_request(user), on=racing, nonce=9)
    assert caught.value.code == "consent_replayed"


def test_withdrawal_relayed_elsewhere_reaches_the_cardholders_view(
    session: Session,
    ledger: FakeLedger,
    signer: ConsentSigner,
    make_org: MakeOrg,
    make_request: MakeRequest,
    relay: Relay,
) -> None:
    from credential_service.consent.service import list_holder_consents

    user = make_org()
    signed = relay(make_request(user))
    ledger.withdraw(consent_id=signed.consent_id, nonce=1, signature=b"")  # relayed by someone else
    assert _check(session, ledger, user, signed, now=ledger.block_time).reason == "withdrawn"
    [view] = list_holder_consents(session=session, signer=signer, holder=signed.terms.holder)
    assert view.state == "withdrawn" and view.withdrawn_at == ledger.block_time
