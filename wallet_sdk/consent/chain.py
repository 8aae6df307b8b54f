"""A consent receipt checked against ``ConsentRegistry`` itself, through any node, trusting
no service (`wallet_sdk.consent_chain.NodeConsentView` reads one over ``node_adapter``)."""

from __future__ import annotations

from typing import Protocol

from eth_utils.address import to_checksum_address

from node_adapter.consent_format import ConsentOnChain
from wallet_sdk.consent.receipt import ConsentReceipt, ReceiptEvent
from wallet_sdk.errors import VerificationError

__all__ = ["ConsentOnChain", "ConsentView", "verify_consent_receipt_on_chain"]


class ConsentView(Protocol):
    """Read access to ``ConsentRegistry`` on some node (`wallet_sdk.consent_chain` offers one
    over ``node_adapter``). Methods may raise anything when the chain cannot answer; the
    verification then fails closed."""

    def chain_id(self) -> int: ...

    def consent_of(self, registry: str, consent_id: bytes) -> ConsentOnChain | None: ...

    def is_successor_of(self, registry: str, holder: str, candidate: str) -> bool: ...


def verify_consent_receipt_on_chain(receipt: ConsentReceipt, view: ConsentView) -> ConsentOnChain:
    """Check a verified receipt against the chain itself, trusting no service.

    Checks, in order: 1. the view is on the receipt's chain (``chain``); 2. the registry
    holds the consent (``recorded``); 3. holder, grantee, commitments and validity are the
    signed terms (``terms``); 4. a withdrawal receipt's consent is withdrawn on chain
    (``withdrawn``); 5. a withdrawal by a successor: the registry records the succession
    (``succession``). Raises `VerificationError` naming the check; a chain that cannot answer
    fails check ``chain``.
    """
    domain = receipt.consent.domain
    terms = receipt.consent.terms
    # 1. the right chain
    try:
        chain_id = view.chain_id()
        on_chain = view.consent_of(domain.address, receipt.consent_id)
    except Exception as err:  # the view's own failures: fail closed, whatever they are
        raise VerificationError("chain", f"the chain cannot answer: {err}") from err
    if chain_id != domain.chain_id:
        raise VerificationError("chain", f"the view is on chain {chain_id}, not {domain.chain_id}")
    # 2. recorded
    if on_chain is None:
        raise VerificationError("recorded", "the registry holds no such consent")
    # 3. the signed terms
    if (
        to_checksum_address(on_chain.holder) != terms.holder
        or on_chain.grantee != terms.grantee
        or on_chain.purpose_hash != terms.purpose_hash
        or on_chain.scope_hash != terms.scope_hash
        or (on_chain.not_before, on_chain.not_after) != (terms.not_before, terms.not_after)
    ):
        raise VerificationError("terms", "the registry holds other terms for this consent")
    # 4. withdrawn, when the receipt says so
    if receipt.event is ReceiptEvent.WITHDRAWAL and on_chain.withdrawn_at == 0:
        raise VerificationError("withdrawn", "the registry does not show the withdrawal")
    # 5. the successor that withdrew succeeds the holder
    if receipt.withdrawn_by is not None:
        try:
            succeeds = view.is_successor_of(domain.address, terms.holder, receipt.withdrawn_by)
        except Exception as err:  # fail closed, as in 1.
            raise VerificationError("chain", f"the chain cannot answer: {err}") from err
        if not succeeds:
            raise VerificationError(
                "succession", "the registry holds no succession from the holder to the signer"
            )
    return on_chain
