"""The organisation-standing cache behind authentication on the verification routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel, create_engine, select

from credential_service.errors import NotAuthenticated
from credential_service.models import Organisation, OrganisationKind, OrganisationStatus
from credential_service.services.organisations import accreditation_standing
from credential_service.services.tokens import (
    SCOPES_BY_ROLE,
    AccessTokenClaims,
    OrganisationStanding,
    OrganisationStandingCache,
    VerifiedTokenCache,
    principal_of,
    read_standing,
)

CODE = "91440100MA5ABCDE1X"


def standing(status: OrganisationStatus = OrganisationStatus.ACTIVE) -> OrganisationStanding:
    return OrganisationStanding(
        organisation_id=7, credit_code=CODE, role=OrganisationKind.COURT, status=status
    )


def test_an_entry_lives_for_the_ttl_only() -> None:
    now = [100.0]
    cache = OrganisationStandingCache(ttl=2.0, clock=lambda: now[0])
    cache.put(standing())
    now[0] = 101.9
    assert cache.get(CODE) == standing()
    now[0] = 102.0
    assert cache.get(CODE) is None
    now[0] = 100.0
    assert cache.get("91440100MA5ABCDE2Y") is None


def test_forget_drops_an_entry_at_once() -> None:
    cache = OrganisationStandingCache()
    cache.put(standing())
    cache.forget(CODE)
    assert cache.get(CODE) is None
    cache.forget(CODE)  # forgetting an absent entry is harmless


@pytest.mark.parametrize("ttl", [0.0, -1.0, 2.5, 300.0])
def test_the_ttl_is_bounded_to_two_seconds(ttl: float) -> None:
    with pytest.raises(ValueError, match=r"TTL must be in \(0, 2\]"):
        OrganisationStandingCache(ttl=ttl)


def test_a_full_cache_starts_over() -> None:
    cache = OrganisationStandingCache(max_entries=1)
    cache.put(standing())
    other = OrganisationStanding(
        organisation_id=8,
        credit_code="91440100MA5ABCDE2Y",
        role=OrganisationKind.COURT,
        status=OrganisationStatus.ACTIVE,
    )
    cache.put(other)
    assert cache.get(CODE) is None and cache.get(other.credit_code) == other


def test_principal_of_an_active_organisation_keeps_only_its_roles_scopes() -> None:
    claims = AccessTokenClaims(
        subject=CODE, scope="evidence:verify credentials:issue", expires_at=2_000_000_000
    )
    principal = principal_of(claims=claims, standing=standing())
    assert principal.organisation_id == 7 and principal.role == OrganisationKind.COURT
    assert principal.scopes == frozenset({"evidence:verify"}) & SCOPES_BY_ROLE[principal.role]


@pytest.mark.parametrize(
    "found",
    [
        None,
        standing(OrganisationStatus.SUSPENDED),
        standing(OrganisationStatus.REVOKED),
        OrganisationStanding(
            organisation_id=8,
            credit_code="91440100MA5ABCDE2Y",
            role=OrganisationKind.COURT,
            status=OrganisationStatus.ACTIVE,
        ),
    ],
)
def test_principal_of_refuses_unknown_inactive_or_other_organisations(
    found: OrganisationStanding | None,
) -> None:
    claims = AccessTokenClaims(subject=CODE, scope="evidence:verify", expires_at=2_000_000_000)
    with pytest.raises(NotAuthenticated):
        principal_of(claims=claims, standing=found)


def test_verified_claims_are_kept_until_the_token_expires_with_the_same_leeway() -> None:
    cache = VerifiedTokenCache(leeway=timedelta(seconds=30))
    claims = AccessTokenClaims(subject=CODE, scope="evidence:verify", expires_at=1000)
    cache.put("a.b.c", claims)
    assert cache.get("a.b.c", now=1029.9) == claims
    assert cache.get("a.b.c", now=1030.0) is None
    assert cache.get("a.b.c", now=900.0) is None  # an expired entry is dropped for good
    assert cache.get("a.b.d", now=900.0) is None


# ------------------------------------------------------------------ the accreditation path

PROVINCE, MINISTRY = "11440000MB0000001Y", "11100000000013127D"


def child_of_province(code: str = CODE) -> OrganisationStanding:
    return OrganisationStanding(
        organisation_id=7,
        credit_code=code,
        role=OrganisationKind.EMPLOYER,
        status=OrganisationStatus.ACTIVE,
        accreditors=(PROVINCE, MINISTRY),
    )


def test_forgetting_an_accreditor_drops_everything_below_it_at_once() -> None:
    cache = OrganisationStandingCache()
    other_province = OrganisationStanding(
        organisation_id=9,
        credit_code="91330100MA5ABCDE3Z",
        role=OrganisationKind.DATA_USER,
        status=OrganisationStatus.ACTIVE,
        accreditors=("11330000MB0000002Q", MINISTRY),
    )
    cache.put(child_of_province())
    cache.put(other_province)
    cache.forget(PROVINCE)
    assert cache.get(CODE) is None
    assert cache.get(other_province.credit_code) == other_province
    cache.forget(MINISTRY)
    assert cache.get(other_province.credit_code) is None


def test_another_worker_sees_a_suspended_accreditor_within_the_ttl(tmp_path: Path) -> None:
    """Two caches, two workers: the one that suspends forgets; the other reads the database
    anew when its entry expires, and the standing it reads is the path's."""
    engine = create_engine(f"sqlite:///{tmp_path / 'standing.db'}")
    SQLModel.metadata.create_all(engine)
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        ministry = _organisation(session, MINISTRY, OrganisationKind.MINISTRY, None, now)
        province = _organisation(session, PROVINCE, OrganisationKind.PROVINCE, ministry, now)
        _organisation(session, CODE, OrganisationKind.EMPLOYER, province, now)
    clock = [100.0]
    other_worker = OrganisationStandingCache(ttl=2.0, clock=lambda: clock[0])
    with Session(engine) as session:
        before = read_standing(session=session, credit_code=CODE)
    assert before is not None and before.status == OrganisationStatus.ACTIVE
    assert before.accreditors == (PROVINCE, MINISTRY)
    other_worker.put(before)
    with Session(engine) as session:
        row = session.exec(select(Organisation).where(Organisation.credit_code == PROVINCE)).one()
        row.status = OrganisationStatus.SUSPENDED
        session.add(row)
        session.commit()
    clock[0] = 101.9
    assert other_worker.get(CODE) == before  # still within the TTL
    clock[0] = 102.0
    assert other_worker.get(CODE) is None
    with Session(engine) as session:
        after = read_standing(session=session, credit_code=CODE)
        employer = session.exec(select(Organisation).where(Organisation.credit_code == CODE)).one()
        path = accreditation_standing(session=session, organisation=employer)
    assert after is not None and after.status == OrganisationStatus.SUSPENDED
    assert (path.status, path.cause) == (OrganisationStatus.SUSPENDED, PROVINCE)
    assert path.reason() == f"the organisation's accreditor {PROVINCE} is suspended"
    claims = AccessTokenClaims(subject=CODE, scope="contracts:write", expires_at=2_000_000_000)
    with pytest.raises(NotAuthenticated):
        principal_of(claims=claims, standing=after)


def test_a_path_with_a_missing_accreditor_fails_closed(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'orphan.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        orphan = Organisation(
            credit_code=CODE,
            name="orphan",
            kind=OrganisationKind.EMPLOYER,
            region=440100,
            accreditor_id=999,
            status=OrganisationStatus.ACTIVE,
            ledger_id="0x00",
            controller_address="0x00",
        )
        path = accreditation_standing(session=session, organisation=orphan)
    assert (path.status, path.cause) == (OrganisationStatus.REVOKED, CODE)


def _organisation(
    session: Session,
    code: str,
    kind: OrganisationKind,
    accreditor: Organisation | None,
    now: datetime,
) -> Organisation:
    row = Organisation(
        credit_code=code,
        name=code,
        kind=kind,
        region=440000,
        accreditor_id=accreditor.id if accreditor else None,
        status=OrganisationStatus.ACTIVE,
        ledger_id="0x" + code.encode().hex(),
        controller_address="0x00",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
