"""The verifier's commands: ``hrss-wallet verify-evidence`` and ``hrss-wallet verify-receipt``.

Courts, other provinces' bureaus and anyone else check an evidence package or an anchor
receipt with nothing but a chain node and the registry addresses they trust: no service, no
database, no keystore. These commands need only the base install (``pip install hrss-trust``:
the SDK and `node_adapter`); ``hrss verify-evidence`` and ``hrss verify-receipt`` are the same
command objects, registered on the operators' CLI too.

``verify-evidence`` exit status: 0 verified; 1 not verified (a check failed, or the contract is
not effective); 2 the command could not run (unreadable file, no node, no registry addresses).
``verify-receipt`` exit status: 0 verified, 1 a check failed (named in the report), 2 unusable
input.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported when a command runs: `--help` starts without them
    from wallet_sdk.evidence import EvidenceReport

__all__ = ["ALGORITHM_NAMES", "verify_evidence_command", "verify_receipt_command"]

ALGORITHM_NAMES = ("sha-256", "sm3")
"""`wallet_sdk.merkle.HashAlgorithm` values, spelled out so that building the command line
imports nothing but click (a unit test keeps the two equal)."""

_VERDICTS = {
    "verified": "VERIFIED 已验证",
    "not_effective": "AUTHENTIC BUT NOT EFFECTIVE 证据真实·合同未生效",
    "failed": "FAILED 验证失败",
}


def _time(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _print_report(report: EvidenceReport) -> None:
    click.echo(f"verdict: {_VERDICTS[report.verdict.value]}")
    click.echo(f"contract: {report.contract_id}")
    click.echo(f"employer: unified social credit code {report.employer_credit_code}")
    click.echo(
        f"employer name (stated in the package, NOT verified): {report.stated_employer_name}"
    )
    click.echo(f"employee: {report.employee}")
    identity = report.employee_identity
    if identity is not None:
        click.echo(
            f"employee (verified by e-card): {identity.name}, ID {identity.masked_id_number}, "
            f"card issuer 0x{identity.card_issuer_id.hex()}"
        )
    if report.document_checked:
        click.echo(
            f"document: {report.document_digest_alg} {report.document_digest} "
            f"(version {report.subject_version})"
        )
    else:
        click.echo("document: not given, not checked")
    click.echo(f"version status: {report.version_status.value}")
    click.echo(f"contract status: {report.contract_status.value}")
    click.echo(f"effective at: {_time(report.effective_at)}")
    click.echo("checks:")
    for check in report.checks:
        click.echo(f"  {check.status.value:<8} {check.name:<20} {check.detail}")
    click.echo("timeline:")
    for entry in report.timeline:
        click.echo(
            f"  #{entry.sequence} {entry.event:<16} v{entry.version} {entry.role:<8} "
            f"claimed {_time(entry.claimed_at)}  block {entry.block_number} "
            f"at {_time(entry.block_time)}  {entry.detail}"
        )


@click.command("verify-evidence")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument(
    "document", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--rpc-url",
    "rpc_urls",
    multiple=True,
    envvar="HRSS_CHAIN_RPC_URLS",
    help="JSON-RPC URL of a chain node (repeat for failover). Default: HRSS_CHAIN_RPC_URLS.",
)
@click.option(
    "--deployment",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="HRSS_DEPLOYMENT_PATH",
    help="Deployment JSON naming the trusted registries. Default: HRSS_DEPLOYMENT_PATH.",
)
@click.option("--trust-registry", help="Trusted TrustRegistry address (instead of --deployment).")
@click.option("--anchor-registry", help="Trusted AnchorRegistry address (with --trust-registry).")
@click.option(
    "--status-registry",
    help="Trusted StatusRegistry address (with --trust-registry): the employee's e-card status.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_evidence_command(
    package: Path,
    document: Path | None,
    rpc_urls: tuple[str, ...],
    deployment: Path | None,
    trust_registry: str | None,
    anchor_registry: str | None,
    status_registry: str | None,
    as_json: bool,
) -> None:
    """Verify an hrss-evidence/1 PACKAGE, and the contract DOCUMENT if given, against the
    chain, without the service. Exit 0 when verified, 1 when not, 2 on usage errors."""
    from node_adapter import Chain, ChainError, ConfigurationError, Deployment
    from wallet_sdk.credentials import CredentialVerifier, DirectTrustView
    from wallet_sdk.evidence import Verdict, verify_evidence
    from wallet_sdk.evidence.chain import NodeEvidenceChainView

    urls = [u.strip() for url in rpc_urls for u in url.split(",") if u.strip()]
    if not urls:
        click.echo("error: give --rpc-url (or set HRSS_CHAIN_RPC_URLS)", err=True)
        sys.exit(2)
    loaded: Deployment | None = None
    if trust_registry and anchor_registry:
        trusted = (trust_registry, anchor_registry)
    elif deployment is not None:
        try:
            loaded = Deployment.load(deployment)
        except ConfigurationError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)
        trusted = (loaded.trust_registry, loaded.anchor_registry)
    else:
        click.echo("error: give --deployment, or --trust-registry and --anchor-registry", err=True)
        sys.exit(2)
    try:
        chain = Chain.from_urls(urls)
        view = NodeEvidenceChainView(chain)
        chain_id = view.chain_id()  # no node at all is a usage error, not a failed verification
        card_verifier = None  # without StatusRegistry, employee_identity fails (closed)
        if loaded is None and status_registry:
            loaded = Deployment(  # only the registries a credential verifier reads
                chain_id=chain_id,
                trust_registry=trusted[0],
                anchor_registry=trusted[1],
                status_registry=status_registry,
                consent_registry="0x" + "00" * 20,
                deployed_block=0,
            )
        if loaded is not None:
            card_verifier = CredentialVerifier(DirectTrustView(chain, loaded))
        package_bytes = package.read_bytes()
        document_bytes = None if document is None else document.read_bytes()
    except (ChainError, ConfigurationError, OSError) as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    report = verify_evidence(
        package_bytes,
        document_bytes,
        view,
        trust_registry=trusted[0],
        anchor_registry=trusted[1],
        strict=False,
        card_verifier=card_verifier,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    sys.exit(0 if report.verdict is Verdict.VERIFIED else 1)


@click.command("verify-receipt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("receipt_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rpc-url", "rpc_urls", multiple=True, help="Chain node URL (repeat for failover).")
@click.option(
    "--deployment",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployment JSON naming the registries you trust.",
)
@click.option("--anchor-registry", help="Trusted AnchorRegistry address (else --deployment).")
@click.option("--trust-registry", help="Trusted TrustRegistry address (else --deployment).")
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHM_NAMES),
    default=None,
    help="Accept only receipts of this digest algorithm (else the receipt's, sha-256 or sm3).",
)
@click.option("--offline", is_flag=True, help="Only the checks that need no chain.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_receipt_command(
    file: Path,
    receipt_path: Path,
    rpc_urls: tuple[str, ...],
    deployment: Path | None,
    anchor_registry: str | None,
    trust_registry: str | None,
    algorithm: str | None,
    offline: bool,
    as_json: bool,
) -> None:
    """Verify that FILE is the document anchored by RECEIPT, against a chain node only.

    FILE is hashed with the algorithm the receipt names (SHA-256 or SM3, the only ones a
    receipt can name), or with --algorithm, in which case a receipt for the other algorithm
    fails at document_digest. Exit status: 0 verified, 1 a check failed (named in the report),
    2 unusable input.
    """
    from wallet_sdk.errors import FormatError, UnsupportedAlgorithmError, VerificationError
    from wallet_sdk.merkle import HashAlgorithm
    from wallet_sdk.receipt import load_receipt_argument, verify_receipt, verify_receipt_offline

    try:
        receipt = load_receipt_argument(file, receipt_path)
    except FormatError as err:
        click.echo(f"not an anchor receipt: {err}", err=True)
        sys.exit(2)
    # A receipt can only name an algorithm this version implements (it is parsed strictly),
    # and the file is hashed here: the receipt picks how to hash, not what the digest is.
    hash_algorithm = receipt.algorithm if algorithm is None else HashAlgorithm(algorithm)
    try:
        digest = hash_algorithm.digest_file(file)
    except UnsupportedAlgorithmError as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    try:
        if offline:
            report = verify_receipt_offline(receipt, digest, algorithm=hash_algorithm)
        else:
            anchor_address, trust_address = _trusted_registries(
                deployment, anchor_registry, trust_registry
            )
            if not rpc_urls:
                raise click.UsageError("--rpc-url is required (or use --offline)")
            from wallet_sdk.chain_view import NodeChainView

            report = verify_receipt(
                receipt,
                digest,
                NodeChainView.from_urls(list(rpc_urls)),
                anchor_registry=anchor_address,
                trust_registry=trust_address,
                algorithm=hash_algorithm,
            )
    except VerificationError as err:
        assert err.report is not None
        report = err.report
    if as_json:
        click.echo(
            json.dumps(
                {
                    "verified": report.passed,
                    "checks": [
                        {"name": c.name, "status": c.status.value, "detail": c.detail}
                        for c in report.checks
                    ],
                }
            )
        )
    else:
        for check in report.checks:
            mark = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[check.status.value]
            click.echo(f"{mark} {check.name}: {check.detail}")
        if not report.passed:
            click.echo("NOT VERIFIED")
        elif offline:  # never a bare VERIFIED: the root was not looked up on the chain
            click.echo("OFFLINE CHECKS PASSED (root anchoring not checked)")
        else:
            click.echo("VERIFIED")
    sys.exit(0 if report.passed else 1)


def _trusted_registries(
    deployment: Path | None, anchor_registry: str | None, trust_registry: str | None
) -> tuple[str, str]:
    if deployment is not None:
        from node_adapter import ChainError, Deployment

        try:
            loaded = Deployment.load(deployment)
        except ChainError as err:
            raise click.UsageError(str(err)) from err
        anchor_registry = anchor_registry or loaded.anchor_registry
        trust_registry = trust_registry or loaded.trust_registry
    if not anchor_registry or not trust_registry:
        raise click.UsageError("name the trusted registries: --deployment or both addresses")
    return anchor_registry, trust_registry
