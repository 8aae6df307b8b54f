"""The public registry view: any authenticated organisation reads any organisation's public
profile, whatever its province (verifiers must be able to name an issuer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from credential_service.api.deps import CurrentOrg, SessionDep
from credential_service.api.routes.credentials import RuntimeDep
from credential_service.services import registry

router = APIRouter(prefix="/v1/registry", tags=["registry"])

OrganisationReference = Annotated[
    str,
    Path(
        min_length=18,
        max_length=66,
        description="unified social credit code, or entity id (0x and 64 hex digits)",
    ),
]


@router.get("/organisations/{reference}")
def read_public_profile(
    reference: OrganisationReference, session: SessionDep, runtime: RuntimeDep, _actor: CurrentOrg
) -> dict[str, Any]:
    """Name, kind, region and province, accreditation path (in words too), status with its
    history, credential types with their history, and keys with purpose and validity, as far
    as the chain has them; times in RFC 3339 (UTC). 400 ``registry_reference_invalid``, 404
    ``organisation_not_found``."""
    return registry.organisation_profile(
        session=session,
        trust=runtime.trust_state,
        types=runtime.types,
        reference=reference,
    )
