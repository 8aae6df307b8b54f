"""`CachedTrustState` after a reorg on anvil (issue #15 item 3): a status change or a
registration the cache has seen, then removed by the node's own `anvil_reorg`, is no longer
held by the cache once it refreshes; the cache answers what the chain holds, and a write sent
again through `Chain.settle` is present once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest

from node_adapter import AnvilProcess, Chain, CredentialStatus, TxReceipt
from tests.fixtures.chain import node_rpc
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import (
    CachedTrustState,
    CredentialVerificationError,
    CredentialVerifier,
    DirectTrustView,
)
from wallet_sdk.credentials.issuer import IssuedCredential
from wallet_sdk.receipt import CheckStatus

pytestmark = pytest.mark.anvil


class Scene:
    def __init__(self, node: AnvilProcess) -> None:
        self.node = node
        self.world = TrustWorld.build(Chain.from_urls([node.url], receipt_timeout=3.0))
        self.school = self.world.add_issuer(
            "school", province="guangdong", region=440100, types=["TechnicalSchoolDiploma"]
        )
        self.state = CachedTrustState.from_chain(self.world.chain, self.world.deployment)
        self.verifier = CredentialVerifier(self.state, types=self.world.types)
        self.direct = DirectTrustView(self.world.chain, self.world.deployment)

    def reorg(self, depth: int) -> None:
        """Replace the last `depth` blocks by empty ones (anvil's own reorg)."""
        before = self.world.chain.block_number()
        node_rpc(self.node.url, "anvil_reorg", depth, [])
        assert self.world.chain.block_number() == before

    def rejected(self, issued: IssuedCredential, check: str, words: str) -> None:
        with pytest.raises(CredentialVerificationError) as err:
            self.verifier.verify_credential(issued.token, as_of=self.world.now())
        assert err.value.check == check, err.value
        assert words in err.value.message, err.value.message

    def agrees_with_chain(self, issued: IssuedCredential) -> None:
        now = self.world.now()
        cid = issued.credential_id
        assert self.state.credential_registration(cid) == self.direct.credential_registration(cid)
        assert self.state.credential_status_at(cid, now) == self.direct.credential_status_at(
            cid, now
        )


@pytest.fixture
def scene(anvil_process_factory: Callable[..., AnvilProcess]) -> Scene:
    return Scene(anvil_process_factory())


def issue(scene: Scene, school: DemoIssuer) -> IssuedCredential:
    return scene.world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)


def test_a_status_change_removed_by_a_reorg_leaves_the_cache(scene: Scene) -> None:
    issued = issue(scene, scene.school)
    scene.state.refresh()
    assert scene.verifier.verify_credential(issued.token, as_of=scene.world.now()).passed
    scene.world.set_status(scene.school, issued, CredentialStatus.SUSPENDED, reason=21)
    scene.state.refresh()
    scene.rejected(issued, "status", "suspended")

    scene.reorg(1)  # the suspension's block is replaced by an empty one
    scene.state.refresh()
    scene.agrees_with_chain(issued)
    assert scene.verifier.verify_credential(issued.token, as_of=scene.world.now()).passed

    # Sent again through the service's path: on chain once, and the cache sees it once.
    status = scene.world.clients.status_registry

    def suspend() -> TxReceipt:
        return status.set_status(
            scene.school.controller,
            credential_id=issued.credential_id,
            status=CredentialStatus.SUSPENDED,
            reason=21,
        )

    receipt = scene.world.chain.settle(
        suspend,
        landed=lambda: (
            status.current_status(issued.credential_id).status is CredentialStatus.SUSPENDED
        ),
        confirmations=0,
        timeout=10.0,
    )
    scene.state.catch_up(receipt.block_number)
    scene.agrees_with_chain(issued)
    scene.rejected(issued, "status", "suspended")


def test_a_registration_removed_by_a_reorg_leaves_the_cache(scene: Scene) -> None:
    kept = issue(scene, scene.school)
    removed = issue(scene, scene.school)
    scene.state.refresh()
    assert scene.verifier.verify_credential(removed.token, as_of=scene.world.now()).passed

    scene.reorg(1)  # the registration's block is replaced by an empty one
    scene.state.refresh()
    scene.agrees_with_chain(removed)
    assert scene.state.credential_registration(removed.credential_id) is None
    scene.rejected(removed, "registration", "not registered in StatusRegistry")
    # What the reorg left alone still verifies.
    assert scene.verifier.verify_credential(kept.token, as_of=scene.world.now()).passed

    # The service's path sends it again through Chain.settle; then it is present once.
    status = scene.world.clients.status_registry
    receipt = scene.world.chain.settle(
        partial(
            status.register,
            scene.school.controller,
            issuer=scene.school.entity_id,
            credential_ids=[removed.credential_id],
            digests=[removed.digest],
        ),
        landed=lambda: status.issuer_of(removed.credential_id) is not None,
        confirmations=0,
        timeout=10.0,
    )
    scene.state.catch_up(receipt.block_number)
    scene.agrees_with_chain(removed)
    assert scene.verifier.verify_credential(removed.token, as_of=scene.world.now()).passed


def test_verification_during_the_rebuild_after_a_reorg_keeps_what_the_chain_kept(
    scene: Scene,
) -> None:
    kept = issue(scene, scene.school)
    for _ in range(20):  # events to read again on the rebuild
        issue(scene, scene.school)
    removed = issue(scene, scene.school)
    scene.state.refresh()
    now = scene.world.now()
    scene.reorg(1)
    failures: list[str] = []
    done = threading.Event()

    def verify_all_along() -> None:
        while not done.is_set():
            report = scene.verifier.verify_credential(kept.token, as_of=now, strict=False)
            if not report.passed:
                failures.extend(c.name for c in report.checks if c.status is CheckStatus.FAILED)

    thread = threading.Thread(target=verify_all_along)
    thread.start()
    try:
        scene.state.refresh()  # finds the rollback and rebuilds
    finally:
        done.set()
        thread.join(5)
    assert set(failures) == set()  # the credential the reorg left alone never stopped verifying
    assert scene.state.credential_registration(removed.credential_id) is None
