"""``hrss anchor``, ``hrss verify-receipt`` and ``hrss worker``.

``hrss anchor`` hashes files locally (nothing but digests leaves the machine) with SHA-256 or,
with ``--algorithm sm3``, SM3 (GB/T 32905), submits the digests to a running service and, with
``--wait``, writes each file's receipt next to it as ``<file>.anchor-receipt.json``.
``hrss verify-receipt`` checks a file against its receipt with nothing but a chain node: it
never calls the service.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when a command runs: `hrss --help` starts without them
    import httpx
    from tqdm import tqdm

    from wallet_sdk.merkle import HashAlgorithm

__all__ = ["ALGORITHM_NAMES", "anchor_command", "verify_receipt_command", "worker_command"]

_SUBMIT_BATCH = 5_000
RECEIPT_SUFFIX = ".anchor-receipt.json"
ALGORITHM_NAMES = ("sha-256", "sm3")
"""`wallet_sdk.merkle.HashAlgorithm` values, spelled out so that building the command line
imports no SDK (a unit test keeps the two equal)."""
_DEFAULT_ALGORITHM = "sha-256"


def _client(service: str, token: str) -> httpx.Client:
    """HTTP client for the service (tests replace it with the app's test client)."""
    from credential_service.service_client import service_session

    return service_session(service, token)


def hash_file(
    path: Path,
    progress: tqdm | None = None,
    *,
    algorithm: HashAlgorithm | None = None,
) -> bytes:
    """Digest of a file under `algorithm` (SHA-256 unless told), read in 1 MiB pieces.

    Raises `OSError` when the file cannot be read.
    """
    from wallet_sdk.merkle import HashAlgorithm

    algorithm = HashAlgorithm.SHA256 if algorithm is None else algorithm
    return algorithm.digest_file(path, None if progress is None else progress.update)


@click.command("anchor")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--service", "service_url", required=True, help="Service base URL.")
@click.option("--token", required=True, help="Access token (POST /v1/auth/token).")
@click.option(
    "--document-type",
    default="document",
    show_default=True,
    help="What the files are, stored with each item (the API's document_type): 1-64 "
    "characters of a-z, 0-9 and _ . : - starting with a letter or digit, e.g. "
    "labour-contract, certificate, payroll:2026-11.",
)
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHM_NAMES),
    default=_DEFAULT_ALGORITHM,
    show_default=True,
    help="Digest algorithm: sha-256, or sm3 (GB/T 32905) where SM3 is required.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Wait up to SECONDS (e.g. --wait 60) for the receipts and write "
    "<file>.anchor-receipt.json next to each file.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def anchor_command(
    files: Sequence[Path],
    service_url: str,
    token: str,
    document_type: str,
    algorithm: str,
    wait: float | None,
    quiet: bool,
) -> None:
    """Anchor FILES: hash them here, submit the digests, optionally wait for the receipts.

    Prints one JSON line per file: path, algorithm, digest, anchor id (and receipt path with
    --wait SECONDS).
    """
    from tqdm import tqdm

    from credential_service.service_client import answer_error
    from wallet_sdk.errors import UnsupportedAlgorithmError
    from wallet_sdk.merkle import HashAlgorithm

    hash_algorithm = HashAlgorithm(algorithm)
    total = sum(path.stat().st_size for path in files)
    digests: list[bytes] = []
    with tqdm(
        total=total, unit="B", unit_scale=True, desc="hashing", disable=quiet, file=sys.stderr
    ) as progress:
        try:
            for path in files:
                digests.append(hash_file(path, progress, algorithm=hash_algorithm))
        except UnsupportedAlgorithmError as err:
            raise click.ClickException(str(err)) from err
    ids: list[str] = []
    with _client(service_url, token) as client:
        for start in range(0, len(digests), _SUBMIT_BATCH):
            chunk = digests[start : start + _SUBMIT_BATCH]
            response = client.post(
                "/v1/anchors",
                json={
                    "algorithm": algorithm,
                    "document_type": document_type,
                    "digests": ["0x" + d.hex() for d in chunk],
                },
            )
            if response.status_code != 202:
                raise answer_error(response)
            ids += [item["id"] for item in response.json()["items"]]
        receipts: dict[str, dict[str, Any]] = {}
        if wait is not None:
            receipts = _wait_for_receipts(client, ids, timeout=wait, quiet=quiet)
    for path, digest, anchor_id in zip(files, digests, ids, strict=True):
        line: dict[str, Any] = {
            "file": str(path),
            "algorithm": algorithm,
            "digest": "0x" + digest.hex(),
            "id": anchor_id,
        }
        if anchor_id in receipts:
            target = path.with_name(path.name + RECEIPT_SUFFIX)
            target.write_text(json.dumps(receipts[anchor_id], indent=2) + "\n", encoding="utf-8")
            line["receipt"] = str(target)
        click.echo(json.dumps(line))
    if wait is not None and len(receipts) < len(set(ids)):
        raise click.ClickException(
            f"{len(set(ids)) - len(receipts)} receipts not ready after {wait} s; "
            "run again later (submitting again is harmless)"
        )


def _wait_for_receipts(
    client: httpx.Client, ids: list[str], *, timeout: float, quiet: bool
) -> dict[str, dict[str, Any]]:
    from tqdm import tqdm

    from credential_service.service_client import answer_error

    receipts: dict[str, dict[str, Any]] = {}
    waiting = list(dict.fromkeys(ids))
    deadline = time.monotonic() + timeout
    with tqdm(total=len(waiting), desc="receipts", disable=quiet, file=sys.stderr) as progress:
        while waiting and time.monotonic() < deadline:
            still: list[str] = []
            for anchor_id in waiting:
                response = client.get(f"/v1/anchors/{anchor_id}")
                if response.status_code != 200:
                    raise answer_error(response)
                receipt = response.json().get("receipt")
                if receipt is None:
                    still.append(anchor_id)
                    continue
                receipts[anchor_id] = receipt
                progress.update(1)
            waiting = still
            if waiting:
                time.sleep(0.5)
    return receipts


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
        digest = hash_file(file, algorithm=hash_algorithm)
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
        click.echo("VERIFIED" if report.passed else "NOT VERIFIED")
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


@click.command("worker")
def worker_command() -> None:
    """Run an anchoring worker (configured by HRSS_* and HRSS_ANCHORING_* variables)."""
    from credential_service.anchoring.worker import main as worker_main

    sys.exit(worker_main())
