"""``hrss anchor``, ``hrss verify-receipt`` and ``hrss worker``.

``hrss anchor`` hashes files locally (nothing but digests leaves the machine) with SHA-256 or,
with ``--algorithm sm3``, SM3 (GB/T 32905), submits the digests to a running service and, with
``--wait``, writes each file's receipt next to it as ``<file>.anchor-receipt.json``.
``hrss verify-receipt`` is the SDK's ``hrss-wallet verify-receipt`` (`wallet_sdk.verify_cli`),
registered here under the operators' command too.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# The verifier's command is the SDK's (`hrss-wallet verify-receipt`); `hrss` registers it too.
from wallet_sdk.verify_cli import ALGORITHM_NAMES, verify_receipt_command

if TYPE_CHECKING:  # imported when a command runs: `hrss --help` starts without them
    import httpx
    from tqdm import tqdm

    from wallet_sdk.merkle import HashAlgorithm

__all__ = ["ALGORITHM_NAMES", "anchor_command", "verify_receipt_command", "worker_command"]

_SUBMIT_BATCH = 5_000
RECEIPT_SUFFIX = ".anchor-receipt.json"
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


@click.command("worker")
def worker_command() -> None:
    """Run an anchoring worker (configured by HRSS_* and HRSS_ANCHORING_* variables)."""
    from credential_service.anchoring.worker import main as worker_main

    sys.exit(worker_main())
