"""Demo bootstrap: the Ministry, two provinces and one organisation of every other role, each
with a client key, created idempotently; the employer also gets a document-signing key for
labour contracts (a client key authenticates, it never signs a document). Private JWKs go to
an encrypted keystore of their own (the clients' side), never to the service's. In the
national profile every demo key is SM2 (the international one mixes Ed25519 and P-256)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from credential_service.context import ServiceContext
from credential_service.crypto_profile import CryptoProfile
from credential_service.jwk import thumbprint
from credential_service.keystore import FileKeystore
from credential_service.models import (
    KeyPurpose,
    Organisation,
    OrganisationCreate,
    OrganisationKey,
    OrganisationKeyCreate,
    OrganisationKind,
    PublicJwk,
)
from credential_service.services import organisations as service
from credential_service.services.audit import append_audit_entry
from credential_service.services.organisations import credit_code_check_character
from wallet_sdk import Curve


def demo_credit_code(prefix: str, region: int, organisation_code: str) -> str:
    """A well-formed credit code: 2-character registration type, region, 9-character
    organisation code, check character."""
    first17 = f"{prefix}{region:06d}{organisation_code}"
    return first17 + credit_code_check_character(first17)


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: OrganisationKind
    region: int
    credit_code: str
    accreditor: str
    key_type: str  # "Ed25519" or "P-256" (international profile)


@dataclass(frozen=True)
class DemoCredential:
    """What a demo client needs to ask for a token: its client_id and where its key is."""

    name: str
    role: OrganisationKind
    client_id: str
    key_id: str
    keystore_path: Path
    keystore_entry: str
    document_key_id: str | None = None
    """An employer's document-signing key (labour contracts), in entry ``document/<id>``."""

    def __str__(self) -> str:
        text = (
            f"{self.role.value:<10} {self.client_id}  {self.name}\n"
            f"{'':<10} key {self.key_id} in {self.keystore_path} [{self.keystore_entry}]"
        )
        if self.document_key_id is not None:
            text += (
                f"\n{'':<10} document-signing key {self.document_key_id} "
                f"[{document_key_entry(self.client_id)}]"
            )
        return text


GUANGDONG = demo_credit_code("11", 440000, "MB0000001")
ZHEJIANG = demo_credit_code("11", 330000, "MB0000002")


def demo_organisations(ministry: str) -> list[DemoOrganisation]:
    """The demo organisations below the Ministry, accreditors first."""
    province, issuer, employer = (
        OrganisationKind.PROVINCE,
        OrganisationKind.ISSUER,
        OrganisationKind.EMPLOYER,
    )
    data_user, court = OrganisationKind.DATA_USER, OrganisationKind.COURT
    card = OrganisationKind.CARD_ISSUER
    rows = [
        ("广东省人力资源和社会保障厅", province, 440000, GUANGDONG, ministry, "Ed25519"),
        ("浙江省人力资源和社会保障厅", province, 330000, ZHEJIANG, ministry, "Ed25519"),
        ("广州市高级技工学校", issuer, 440100, ("52", "MJ0000003"), GUANGDONG, "Ed25519"),
        ("深圳市示例科技有限公司", employer, 440300, ("91", "MA0000004"), GUANGDONG, "P-256"),
        ("杭州市公共数据服务中心", data_user, 330100, ("12", "MB0000005"), ZHEJIANG, "Ed25519"),
        ("广州市劳动人事争议仲裁院", court, 440100, ("12", "MB0000006"), GUANGDONG, "P-256"),
        ("广东省社会保障卡服务中心", card, 440000, ("12", "MB0000007"), GUANGDONG, "Ed25519"),
        # the national card service platform, accredited by the Ministry itself
        ("全国社会保障卡服务平台", card, 100000, ("12", "MB0000008"), ministry, "Ed25519"),
    ]
    return [
        DemoOrganisation(
            name=name,
            kind=kind,
            region=region,
            credit_code=code
            if isinstance(code, str)
            else demo_credit_code(code[0], region, code[1]),
            accreditor=accreditor,
            key_type=key_type,
        )
        for name, kind, region, code, accreditor, key_type in rows
    ]


def client_key_entry(client_id: str) -> str:
    return f"client/{client_id}"


def document_key_entry(client_id: str) -> str:
    return f"document/{client_id}"


def _load(keystore: FileKeystore, entry: str) -> dict[str, str]:
    key = keystore.get(entry)
    jwk = key.private_jwk()
    jwk["kid"] = key.thumbprint_b64()
    return jwk


def load_client_key(keystore: FileKeystore, client_id: str) -> dict[str, str]:
    """The private client-authentication JWK of a demo client, ``kid`` set to its RFC 7638
    thumbprint."""
    return _load(keystore, client_key_entry(client_id))


def load_document_key(keystore: FileKeystore, client_id: str) -> dict[str, str]:
    """The private document-signing JWK of a demo employer (labour contracts), ``kid`` set to
    its RFC 7638 thumbprint."""
    return _load(keystore, document_key_entry(client_id))


def _client_key(keystore: FileKeystore, client_id: str, curve: Curve) -> dict[str, str]:
    keystore.ensure(client_key_entry(client_id), curve)
    return load_client_key(keystore, client_id)


def _register_if_new(
    *,
    session: Session,
    context: ServiceContext,
    organisation: Organisation,
    jwk: dict[str, str],
    purpose: KeyPurpose,
    now: datetime,
) -> str:
    public = PublicJwk.model_validate({k: v for k, v in jwk.items() if k not in ("d", "kid")})
    key_id = thumbprint(jwk)
    registered = session.exec(
        select(OrganisationKey.id).where(OrganisationKey.key_id == key_id)
    ).first()
    if registered is None:
        service.register_organisation_key(
            session=session,
            ledger=context.ledger,
            actor=organisation,
            credit_code=organisation.credit_code,
            request=OrganisationKeyCreate(jwk=public, purpose=purpose),
            now=now,
        )
        _audit(session, f"/v1/organisations/{organisation.credit_code}/keys", now)
    return key_id


def bootstrap_demo(
    context: ServiceContext, *, client_keystore_path: Path, client_passphrase: str
) -> list[DemoCredential]:
    """Create the demo organisations and their client keys; safe to run again.

    Returns one ``DemoCredential`` per organisation, Ministry first. Raises the service's
    errors (``LedgerUnavailable``, ``KeystoreError``, ...) when a step fails; a rerun resumes.
    """
    settings = context.settings
    national = settings.crypto_profile is CryptoProfile.NATIONAL
    profile_curve = settings.crypto_profile.algorithms.signing_curve
    clients = FileKeystore.open(
        client_keystore_path,
        client_passphrase,
        cipher=settings.crypto_profile.algorithms.keystore_cipher,
    )
    ministry_code = settings.ministry_credit_code
    plan = [
        DemoOrganisation(
            settings.ministry_name, OrganisationKind.MINISTRY, settings.ministry_region,
            ministry_code, "", "Ed25519",
        ),
        *demo_organisations(ministry_code),
    ]  # fmt: skip
    credentials: list[DemoCredential] = []
    with Session(context.engine, expire_on_commit=False) as session:
        for item in plan:
            now = datetime.now(UTC)
            curve = profile_curve if national else Curve(item.key_type)
            jwk = _client_key(clients, item.credit_code, curve)
            public = PublicJwk.model_validate(
                {k: v for k, v in jwk.items() if k not in ("d", "kid")}
            )
            organisation = service.find_organisation(session=session, credit_code=item.credit_code)
            if organisation is None:
                accreditor = service.find_organisation(session=session, credit_code=item.accreditor)
                assert accreditor is not None, "accreditors come first in the plan"
                organisation = service.accredit_organisation(
                    session=session,
                    ledger=context.ledger,
                    accreditor=accreditor,
                    request=OrganisationCreate(
                        name=item.name,
                        credit_code=item.credit_code,
                        kind=item.kind,
                        region=item.region,
                        keys=[public],
                    ),
                    now=now,
                )
                _audit(session, f"/v1/organisations/{item.credit_code}", now)
            key_id = _register_if_new(
                session=session,
                context=context,
                organisation=organisation,
                jwk=jwk,
                purpose=KeyPurpose.CLIENT_AUTHENTICATION,
                now=now,
            )
            document_key_id = None
            if item.kind == OrganisationKind.EMPLOYER:
                clients.ensure(document_key_entry(item.credit_code), curve)
                document_key_id = _register_if_new(
                    session=session,
                    context=context,
                    organisation=organisation,
                    jwk=load_document_key(clients, item.credit_code),
                    purpose=KeyPurpose.DOCUMENT_SIGNING,
                    now=now,
                )
            credentials.append(
                DemoCredential(
                    name=item.name,
                    role=item.kind,
                    client_id=item.credit_code,
                    key_id=key_id,
                    keystore_path=client_keystore_path,
                    keystore_entry=client_key_entry(item.credit_code),
                    document_key_id=document_key_id,
                )
            )
    return credentials


def _audit(session: Session, target: str, now: datetime) -> None:
    append_audit_entry(
        session=session,
        actor="bootstrap",
        action="BOOTSTRAP",
        target=target,
        outcome="success",
        status_code=0,
        error_code=None,
        request_id="bootstrap",
        now=now,
    )
