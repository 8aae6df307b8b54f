"""`make run`: the whole service on this machine with embedded defaults.

1. anvil on 127.0.0.1 with its state in `var/chain/anvil-state.json` (kept across runs);
2. the registries deployed once (addresses in `var/deployment.json`);
3. the demo organisations bootstrapped on chain and in the SQLite database `var/hrss.db`, their
   client keys in the encrypted keystore `var/demo-clients.keystore`;
4. an anchoring worker process;
5. the API and the verification page on 127.0.0.1, until Ctrl-C or SIGTERM, which stop the
   worker and anvil (state dumped) before this process exits.

Running it again resumes the same chain, database and keys. A port already taken (``make run
PORT=... CHAIN_PORT=...`` choose others) is refused before anything starts; a saved deployment
whose registries the chain does not hold (``var/chain`` lost) stops it with the way out:
``rm -rf var`` starts afresh. ``--zero-gas`` (``make run RUN_ARGS=--zero-gas``) runs anvil as
the Besu genesis configures the production chain: gas price and base fee 0 and no funded
development account, so every account sends with no balance (give it a ``--var`` of its own: a
state directory keeps the chain it was made with).

``--profile national`` (or ``HRSS_CRYPTO_PROFILE=national make run``) starts the national
cryptographic profile: SM2 service keys and tokens, SM4-GCM seals (see
`credential_service.crypto_profile`). A state directory keeps the profile it was made with
(``var/profile``): starting it under the other profile is refused before anything starts;
give each profile its own ``--var`` (``make run RUN_ARGS="--profile national --var
var-national"``).

Everything is configured through the `HRSS_*` environment variables that
`credential_service.core.config` reads; this script sets the local defaults for itself and the
worker process it starts.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


PROFILE_FILE = "profile"


def _local_environment(var: Path, *, api_port: int, chain_url: str, profile: str) -> dict[str, str]:
    return {
        "HRSS_DEV_MODE": "true",
        "HRSS_CRYPTO_PROFILE": profile,
        "HRSS_DATABASE_URL": f"sqlite:///{var / 'hrss.db'}",
        "HRSS_CHAIN_RPC_URLS": chain_url,
        "HRSS_DEPLOYMENT_PATH": str(var / "deployment.json"),
        "HRSS_KEYSTORE_PATH": str(var / "service.keystore"),
        "HRSS_ISSUER_URL": f"http://127.0.0.1:{api_port}",
    }


class _Stop(Exception):
    """SIGTERM or SIGINT arrived: unwind through the clean-up of whatever was started."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--var", type=Path, default=REPO / "var", help="state directory")
    parser.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1")
    parser.add_argument("--chain-port", type=int, default=8545, help="anvil port on 127.0.0.1")
    parser.add_argument(
        "--no-worker", action="store_true", help="do not start the anchoring worker"
    )
    parser.add_argument(
        "--zero-gas",
        action="store_true",
        help="gas price and base fee 0, no funded accounts (as the Besu genesis)",
    )
    parser.add_argument(
        "--profile",
        choices=("international", "national"),
        default=os.environ.get("HRSS_CRYPTO_PROFILE", "international"),
        help="cryptographic profile (default: $HRSS_CRYPTO_PROFILE, else international)",
    )
    args = parser.parse_args(argv)
    # uvicorn handles these signals while it serves and raises them again once it has
    # stopped; with the default SIGTERM action that killed this process before the
    # `finally` below, and anvil and the worker lived on. Raised as `_Stop`, either signal,
    # at any point, runs the clean-up.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _raise_stop)
    from credential_service.errors import ServiceError
    from node_adapter.anvil import port_is_free

    ports = {"API": args.port, "chain (anvil)": args.chain_port}
    if args.port == args.chain_port:
        print(f"the API and the chain cannot share port {args.port}", file=sys.stderr)
        return 2
    for what, port in ports.items():
        if not port_is_free(port):
            print(
                f"port {port} for the {what} on 127.0.0.1 is taken by another process: stop "
                "it, or choose other ports (make run PORT=8001 CHAIN_PORT=8546)",
                file=sys.stderr,
            )
            return 2
    refusal = _profile_refusal(args.var.resolve(), args.profile)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    try:
        return _run(args)
    except _Stop as stop:
        print(f"stopped ({stop})", flush=True)
        return 0
    except ServiceError as err:
        print(f"{err.code}: {err.message}", file=sys.stderr)
        return 2


def _profile_refusal(var: Path, profile: str) -> str | None:
    """Why `var` cannot be started under `profile`, or ``None`` (recording `profile` in a
    new state directory). A directory made before profiles were recorded is international."""
    recorded = var / PROFILE_FILE
    if recorded.exists():
        existing = recorded.read_text().strip()
    elif (var / "deployment.json").exists():
        existing = "international"
    else:
        var.mkdir(parents=True, exist_ok=True)
        recorded.write_text(profile + "\n")
        return None
    if existing == profile:
        return None
    return (
        f"{var} holds a deployment of the {existing} profile, not {profile}: start it with "
        f"--profile {existing}, or give the {profile} profile a state directory of its own "
        f'(make run RUN_ARGS="--profile {profile} --var var-{profile}"), or rm -rf {var}'
    )


def _run(args: argparse.Namespace) -> int:
    from node_adapter import AnvilProcess

    var: Path = args.var.resolve()
    (var / "chain").mkdir(parents=True, exist_ok=True)
    print(f"starting anvil on 127.0.0.1:{args.chain_port} (state {var / 'chain'})", flush=True)
    anvil = AnvilProcess.start(
        port=args.chain_port,
        state_file=var / "chain" / "anvil-state.json",
        state_interval=5,
        gas_price=0 if args.zero_gas else None,
        base_fee=0 if args.zero_gas else None,
        extra_args=("--accounts", "0") if args.zero_gas else (),
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        os.environ.update(
            _local_environment(var, api_port=args.port, chain_url=anvil.url, profile=args.profile)
        )

        import uvicorn

        from credential_service.api.main import create_app
        from credential_service.bootstrap import bootstrap_demo
        from credential_service.context import ServiceContext
        from credential_service.core.config import Settings
        from credential_service.core.serving import die_with_parent, restore_recursion_limit
        from credential_service.models import OrganisationKind

        settings = Settings()
        context = ServiceContext.open(settings)
        credentials = bootstrap_demo(
            context,
            client_keystore_path=var / "demo-clients.keystore",
            client_passphrase=settings.passphrase,
        )
        if not args.no_worker:
            from credential_service.anchoring.worker import anchoring_key_name
            from credential_service.core.config import AnchoringSettings
            from wallet_sdk import Curve

            # The worker and the API share the keystore file: create the worker's key here,
            # through the API's keystore, so no later write of the API drops it.
            context.keystore.ensure(
                anchoring_key_name(AnchoringSettings().worker_name), Curve.SECP256K1
            )
            worker = subprocess.Popen(
                [sys.executable, "-m", "credential_service.anchoring.worker"],
                cwd=REPO,
                env=os.environ.copy(),
                # SIGTERM to the worker should this process die without cleaning up
                preexec_fn=functools.partial(die_with_parent, os.getpid()),
            )
        base = f"http://127.0.0.1:{args.port}"
        deployment = context.ledger.deployment
        hrss = REPO / ".venv" / "bin" / "hrss"
        # The court's client: the verifier a clerk of an arbitration court starts with.
        court = next((c for c in credentials if c.role is OrganisationKind.COURT), credentials[-1])
        print(
            "\n".join(
                [
                    "",
                    "hrss-trust is running (dev mode: fixed keystore passphrase, local chain)",
                    f"  API                {base}",
                    f"  OpenAPI            {base}/docs",
                    f"  verification page  {base}/verify",
                    f"  chain (anvil)      {anvil.url}  chain id {deployment.chain_id}"
                    + ("  zero gas" if args.zero_gas else ""),
                    f"  TrustRegistry      {deployment.trust_registry}",
                    f"  AnchorRegistry     {deployment.anchor_registry}",
                    f"  StatusRegistry     {deployment.status_registry}",
                    f"  ConsentRegistry    {deployment.consent_registry}",
                    f"  database           {settings.database_url}",
                    f"  crypto profile     {settings.crypto_profile.value}",
                    "",
                    "demo organisations (client_id = unified social credit code):",
                    *(f"  {c}" for c in credentials),
                    "",
                    "get an access token (private_key_jwt, RFC 7523) for a demo client:",
                    f"  HRSS_DEV_MODE=true {hrss} demo token {court.client_id} "
                    f"--url {base} --client-keystore {var / 'demo-clients.keystore'}",
                    "",
                ]
            ),
            flush=True,
        )
        app = create_app(settings, context=context)
        restore_recursion_limit()  # the chain libraries raised it on import
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info")
        context.close()
    finally:
        # a second Ctrl-C must not cut the clean-up short
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        anvil.stop()
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
