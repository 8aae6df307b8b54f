"""``hrss verify-evidence PACKAGE [DOCUMENT]``: verify an evidence package (and the contract
document) against the chain alone, with `wallet_sdk.evidence.verify_evidence`. Needs no
service, no database and no keystore: only a node URL and the registry addresses the
verifier trusts (a deployment file, or the two addresses given directly).

Exit status: 0 verified; 1 not verified (a check failed, or the contract is not effective);
2 the command could not run (unreadable file, no node, no registry addresses).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported when the command runs: `hrss --help` starts without them
    from wallet_sdk.evidence import EvidenceReport

__all__ = ["verify_evidence_command"]

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
    if report.document_checked:
        click.echo(f"document: {report.document_digest} (version {report.subject_version})")
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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_evidence_command(
    package: Path,
    document: Path | None,
    rpc_urls: tuple[str, ...],
    deployment: Path | None,
    trust_registry: str | None,
    anchor_registry: str | None,
    as_json: bool,
) -> None:
    """Verify an hrss-evidence/1 PACKAGE, and the contract DOCUMENT if given, against the
    chain, without the service. Exit 0 when verified, 1 when not, 2 on usage errors."""
    from node_adapter import Chain, ChainError, ConfigurationError, Deployment
    from wallet_sdk.evidence import Verdict, verify_evidence
    from wallet_sdk.evidence.chain import NodeEvidenceChainView

    urls = [u.strip() for url in rpc_urls for u in url.split(",") if u.strip()]
    if not urls:
        click.echo("error: give --rpc-url (or set HRSS_CHAIN_RPC_URLS)", err=True)
        sys.exit(2)
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
        view = NodeEvidenceChainView(Chain.from_urls(urls))
        view.chain_id()  # no node at all is a usage error, not a failed verification
        package_bytes = package.read_bytes()
        document_bytes = None if document is None else document.read_bytes()
    except (ChainError, OSError) as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    report = verify_evidence(
        package_bytes,
        document_bytes,
        view,
        trust_registry=trusted[0],
        anchor_registry=trusted[1],
        strict=False,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    sys.exit(0 if report.verdict is Verdict.VERIFIED else 1)
