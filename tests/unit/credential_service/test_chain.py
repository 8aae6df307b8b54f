"""The one translation of chain errors (`credential_service.chain`): a revert, an outage, any
other chain failure, and errors that are not the chain's, which pass through; and the one
layout of the chain ports that use it (a Protocol in ``<domain>/ledger.py``, its
``node_adapter`` implementation in ``<domain>/chain.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from credential_service.chain import guarded, ledger_errors
from credential_service.errors import ErrorCode, LedgerRejected, LedgerUnavailable
from node_adapter import (
    ChainError,
    ChainRollback,
    ChainTimeout,
    ChainUnavailable,
    TransactionReverted,
)


def _raise(error: BaseException) -> None:
    raise error


def test_a_revert_is_rejected_naming_the_contract_error_and_what_was_done() -> None:
    reverted = TransactionReverted(
        "NotController(0x01, 0x02)", error_name="NotController", args=(b"\x01", "0x02")
    )
    with pytest.raises(LedgerRejected) as caught, ledger_errors("register a key"):
        raise reverted
    assert caught.value.code is ErrorCode.CHAIN_REJECTED
    assert caught.value.message == "the chain refused to register a key: NotController(0x01, 0x02)"
    assert caught.value.detail == {"error": "NotController", "reason": "NotController(0x01, 0x02)"}
    assert caught.value.contract_error == "NotController"
    assert caught.value.__cause__ is reverted


def test_an_undecodable_revert_is_rejected_without_a_contract_error() -> None:
    with pytest.raises(LedgerRejected) as caught:
        guarded("anchor a root", lambda: _raise(TransactionReverted("execution reverted")))
    assert caught.value.detail == {"error": None, "reason": "execution reverted"}
    assert caught.value.contract_error is None


def test_no_node_answering_is_unavailable() -> None:
    down = ChainUnavailable("every RPC URL failed")
    with pytest.raises(LedgerUnavailable) as caught, ledger_errors("read a key"):
        raise down
    assert caught.value.code is ErrorCode.CHAIN_UNAVAILABLE
    assert caught.value.message == "no chain node answers (read a key)"
    assert caught.value.__cause__ is down


@pytest.mark.parametrize(
    "failure",
    [
        ChainTimeout("no receipt after 60 s", tx_hash="0xab"),
        ChainRollback(7),
        ChainError("eth_getLogs: query returned more than 10000 results"),
    ],
    ids=["timeout", "rollback", "rpc-error"],
)
def test_any_other_chain_failure_is_unavailable_and_named(failure: ChainError) -> None:
    with pytest.raises(LedgerUnavailable) as caught:
        guarded("read a block", lambda: _raise(failure))
    assert caught.value.code is ErrorCode.CHAIN_UNAVAILABLE
    assert caught.value.message == f"chain failure while trying to read a block: {failure}"
    assert caught.value.__cause__ is failure


@pytest.mark.parametrize(
    "error",
    [ValueError("not the chain's"), KeyError("k"), LedgerRejected("already translated")],
    ids=["value-error", "key-error", "service-error"],
)
def test_errors_that_are_not_the_chains_pass_through(error: Exception) -> None:
    with pytest.raises(type(error)) as caught, ledger_errors("read a key"):
        raise error
    assert caught.value is error


def test_a_result_is_returned_unchanged() -> None:
    assert guarded("read the head", lambda: 42) == 42


def test_a_rejection_built_elsewhere_names_no_contract_error_unless_it_says_one() -> None:
    assert LedgerRejected("no", detail={"key_id": "abc"}).contract_error is None
    assert LedgerRejected("no", detail="RootAlreadyAnchored").contract_error is None
    assert LedgerRejected("no", detail={"error": "NonceAlreadyUsed"}).contract_error == (
        "NonceAlreadyUsed"
    )


# --------------------------------------------------------------------- one layout of chain ports

_PACKAGE = Path(__file__).resolve().parents[3] / "credential_service"
_DOMAINS = {
    "services": "TrustLedger",
    "cards": "CardLedger",
    "anchoring": "AnchorLedger",
    "consent": "ConsentLedger",
    "credentials": "CredentialLedger",
}
# The modules of the domains whose every chain read and write goes through their port.
_PORT_ONLY_MODULES = (
    "credentials/service",
    "credentials/issuers",
    "credentials/keys",
    "credentials/issuance",
    "credentials/idempotency",
    "credentials/status",
    "credentials/verification",
    "credentials/type_registry",
    "cards/service",
)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


# The contracts' formats (structs, EIP-712 types) are node_adapter's web3-free modules; a port
# may name them. What a port must not reach is the adapter's clients and its chain.
_FORMAT_MODULES = {"node_adapter.consent_format"}


def _imports_node_adapter(tree: ast.Module) -> bool:
    return any(
        m.split(".")[0] == "node_adapter" and m not in _FORMAT_MODULES
        for m in _imported_modules(tree)
    )


@pytest.mark.parametrize("domain", sorted(_DOMAINS))
def test_each_domain_has_its_port_in_ledger_and_its_node_implementation_in_chain(
    domain: str,
) -> None:
    port = _DOMAINS[domain]
    ledger = _tree(_PACKAGE / domain / "ledger.py")
    classes = {n.name: n for n in ledger.body if isinstance(n, ast.ClassDef)}
    assert port in classes and any(
        isinstance(base, ast.Name) and base.id == "Protocol" for base in classes[port].bases
    ), f"{domain}/ledger.py defines the Protocol {port}"
    assert not _imports_node_adapter(ledger), f"{domain}/ledger.py is the port: no node_adapter"
    chain = _tree(_PACKAGE / domain / "chain.py")
    implementations = {n.name for n in chain.body if isinstance(n, ast.ClassDef)}
    assert f"Node{port}" in implementations
    assert "credential_service.chain" in _imported_modules(chain), "errors through the boundary"


@pytest.mark.parametrize("module", _PORT_ONLY_MODULES)
def test_the_credentials_and_cards_domains_reach_the_chain_only_through_their_ports(
    module: str,
) -> None:
    tree = _tree(_PACKAGE / f"{module}.py")
    assert not _imports_node_adapter(tree)
    # Nor through another domain's node implementation (a `chain` module other than the
    # boundary's error translation).
    reached = {m for m in _imported_modules(tree) if m.endswith(".chain")}
    assert reached <= {"credential_service.chain"}, reached


def test_chain_errors_are_translated_in_one_module() -> None:
    """Only the boundary names a revert: every other module gets `LedgerRejected`."""
    translating = sorted(
        str(path.relative_to(_PACKAGE))
        for path in _PACKAGE.rglob("*.py")
        if any(
            (isinstance(node, ast.Name) and node.id == "TransactionReverted")
            or (isinstance(node, ast.Attribute) and node.attr == "TransactionReverted")
            or (
                isinstance(node, ast.ImportFrom)
                and any(alias.name == "TransactionReverted" for alias in node.names)
            )
            for node in ast.walk(_tree(path))
        )
    )
    assert translating == ["chain.py"]
