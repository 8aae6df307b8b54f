"""End to end on a real anvil node over JSON-RPC, through the HTTP API and the wallet SDK:
consent from the data subject (issue #12 item 7). The data user names the person by ID number;
the subject's wallet, holding their e-card, grants with an e-card proof and the check allows
use; another cardholder's wallet refuses the request, and when that cardholder answers it
anyway through the API (signing the grant and proving their own identity), the consent is
recorded as signed but every check answers ``subject_mismatch``; the proof is shown to the
data user that asked and to no other tenant; then the whole chain is scanned for both
persons' data in every encoding."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner

from credential_service.credentials.runtime import CredentialRuntime
from node_adapter import AnvilProcess, Chain
from tests.e2e.test_consent_flow import PERSONAL_DATA, _assert_no_personal_data_on_chain
from tests.fixtures.cards import card_subject
from tests.integration.credential_service.consent.harness import (
    PERSON_ID_NUMBER,
    ConsentService,
    open_consent_service,
)
from wallet_sdk.cli import main as cli
from wallet_sdk.consent import (
    ConsentRequest,
    present_identity_proof,
    sign_grant,
    verify_consent_receipt,
)
from wallet_sdk.errors import VerificationError
from wallet_sdk.privacy import PersonalValue

pytestmark = pytest.mark.anvil

INTRUDER_ID_NUMBER = "440106199003070028"


@pytest.fixture
def node(anvil_process_factory: Callable[..., AnvilProcess]) -> AnvilProcess:
    """A node of its own: the privacy scan reads its whole chain."""
    return anvil_process_factory()


@pytest.fixture
def service(
    node: AnvilProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsentService]:
    chain = Chain.from_urls([node.url], receipt_timeout=30.0)
    yield from open_consent_service(tmp_path_factory.mktemp("consent-subject"), chain)


def _verify_receipt_cli(
    service: ConsentService, node: AnvilProcess, receipt: str, *online: str
) -> tuple[int, str]:
    """``hrss-wallet consent verify-receipt`` on `receipt` (with the chain when `online`)."""
    path = service.directory / f"receipt-{time.monotonic_ns()}.jws"
    path.write_text(receipt)
    trust = service.directory / "trust.json"
    trust.write_text(
        json.dumps({i: [k.public_jwk() for k in ks] for i, ks in service.trust.items()})
    )
    chain_args = ["--rpc-url", node.url, "--deployment", str(service.directory / "deployment.json")]
    args = ["consent", "verify-receipt", str(path), "--trust", str(trust)]
    result = CliRunner().invoke(cli, [*args, *(chain_args if online else [])])
    return result.exit_code, result.output


def _now() -> int:
    return int(time.time())


def test_only_the_data_subject_grants_a_usable_consent(
    service: ConsentService, node: AnvilProcess
) -> None:
    data_user, other_tenant = service.data_users
    runtime: CredentialRuntime = service.client.app.state.credential_runtime  # type: ignore[attr-defined]
    verifier = runtime.verifier
    subject = service.wallet(PERSON_ID_NUMBER)
    intruder = service.wallet(INTRUDER_ID_NUMBER)
    created = service.request_consent(data_user, PERSON_ID_NUMBER)
    assert PERSON_ID_NUMBER not in str(created["request"]["subject"])

    # 1. the subject reviews and grants; the data user's check allows use
    request = subject.review_consent(created["qr"], trusted_keys=service.trust, now=_now())
    signed = subject.grant_consent(request, now=_now())
    granted = service.client.post(
        "/v1/consents", json=signed.to_json(), headers=service.login(subject)
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["subject_verified"] is True
    consent_id = granted.json()["consent_id"]
    allowed = service.check(data_user, consent_id).json()
    assert (allowed["allowed"], allowed["reason"]) == (True, "granted")
    receipt = verify_consent_receipt(
        granted.json()["receipt"], trusted_keys=service.trust, card_verifier=verifier
    )
    assert receipt.consent.identity_proof == signed.identity_proof
    code, output = _verify_receipt_cli(service, node, granted.json()["receipt"], "online")
    assert code == 0, output
    assert "the data subject's e-card, checked against the chain" in output
    assert output.rstrip().endswith("VERIFIED")
    code, output = _verify_receipt_cli(service, node, granted.json()["receipt"])
    assert code == 0 and "OFFLINE CHECKS PASSED" in output, output

    # 2. the intruder's wallet refuses a request about someone else, before signing anything
    with pytest.raises(VerificationError, match="this request is about someone else"):
        intruder.review_consent(created["qr"], trusted_keys=service.trust, now=_now())
    with pytest.raises(VerificationError, match="this request is about someone else"):
        intruder.grant_consent(request, now=_now())
    assert intruder.consents() == ()

    # 3. ...so the intruder signs the grant and proves its own identity through the API
    wire_request = ConsentRequest.from_json(created["request"])
    card = intruder.card_token()
    assert card is not None
    forged = present_identity_proof(
        card,
        holder_key=intruder.credential_key,
        consent=sign_grant(
            wire_request, private_key=intruder._holder_key.private_bytes(), now=_now()
        ),
        controller=wire_request.controller,
        issued_at=_now(),
    )
    answered = service.client.post(
        "/v1/consents", json=forged.to_json(), headers=service.login(intruder)
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["subject_verified"] is False
    mismatch = service.check(data_user, answered.json()["consent_id"])
    assert mismatch.status_code == 200
    assert (mismatch.json()["allowed"], mismatch.json()["reason"]) == (False, "subject_mismatch")
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(
            answered.json()["receipt"], trusted_keys=service.trust, card_verifier=verifier
        )
    assert caught.value.check == "subject"
    code, output = _verify_receipt_cli(service, node, answered.json()["receipt"], "online")
    assert code == 1 and "NOT VERIFIED: subject: the e-card proof is not the data subject" in output

    # 4. the proof is the data user's to see (in the receipt), and no other tenant's
    mine = service.client.get(f"/v1/consents/{consent_id}", headers=service.org_headers(data_user))
    assert mine.status_code == 200 and mine.json()["subject_verified"] is True
    shown = verify_consent_receipt(mine.json()["receipts"][0], trusted_keys=service.trust)
    assert shown.consent.identity_proof == signed.identity_proof is not None
    one = service.client.get(
        f"/v1/consents/{consent_id}", headers=service.org_headers(other_tenant)
    )
    assert one.status_code == 404 and one.json()["code"] == "consent_not_found"
    listed = service.client.get("/v1/consents", headers=service.org_headers(other_tenant))
    assert listed.status_code == 200 and consent_id not in listed.text
    assert service.check(other_tenant, consent_id).json()["reason"] == "not_grantee"

    # 5. neither person's data is on chain, in any encoding
    _assert_no_personal_data_on_chain(
        service.chain,
        positive=[signed.consent_id, forged.consent_id],
        personal=[
            *PERSONAL_DATA,
            PersonalValue.id_number(INTRUDER_ID_NUMBER),
            *(
                PersonalValue.text(f"card-{key}", value)
                for person in (PERSON_ID_NUMBER, INTRUDER_ID_NUMBER)
                for key, value in card_subject(person).items()
                if key in ("name", "cardNumber")
            ),
        ],
    )
