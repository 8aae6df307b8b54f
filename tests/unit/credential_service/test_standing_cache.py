"""The organisation-standing cache behind authentication on the verification routes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from credential_service.errors import NotAuthenticated
from credential_service.models import OrganisationKind, OrganisationStatus
from credential_service.services.tokens import (
    SCOPES_BY_ROLE,
    AccessTokenClaims,
    OrganisationStanding,
    OrganisationStandingCache,
    VerifiedTokenCache,
    principal_of,
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
