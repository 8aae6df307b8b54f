"""Instructions per call of the benchmarks' CPU-bound operations: this tree against a git ref.

``python -m scripts.bench_instructions --against REF`` (``make bench-instructions AGAINST=REF``)

Wall-clock rates on a shared two-core machine move by 10 to 30 % between runs of the same code
(the same SD-JWT presentation loop gave 1,923 to 2,743 per second in six alternating runs), so
they cannot show that a change costs less than 5 %. Callgrind (valgrind) counts the
instructions a program executes: the same for the same code and inputs, whatever else the
machine is doing. This command checks out REF in a temporary git worktree and runs, on each
side, one child process under callgrind that builds the credential bench's world
(`scripts.bench_credentials._setup` of that side) and then calls each operation `--calls`
times inside one `sys.call_tracing` (which nothing else calls, and which adds no
tracing when no trace function is set); callgrind collects only inside that C function
(``--toggle-collect``, the calling thread) and writes one profile per operation on leaving it
(``--dump-after``), so the set-up and the warm-up calls are not counted. The in-process HTTP
operation runs its route on a worker thread: it is counted over every thread, zeroed on
entering the loop, in a child of its own, and so also counts the app's background threads.
Each side imports its own packages (the child runs with that side's root first on
``sys.path``) with this tree's virtual environment.

The table gives instructions per call on each side and the change. Instructions are not
seconds (a cache miss costs more than an add), but for the same calls on the same libraries
they move together; `make bench` gives the rates.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOGGLE = "sys_call_tracing"

# (name, row of `make bench` it stands for); the child defines each name.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("issue_jwt", "vc+jwt credentials issued"),
    ("verify_jwt", "vc+jwt credentials verified, whole pipeline"),
    ("issue_sd", "vc+sd-jwt credentials issued"),
    ("verify_sd", "SD-JWT presentations verified, whole pipeline"),
    ("issue_jwt_national", "vc+jwt issued, national profile"),
    ("verify_jwt_national", "vc+jwt verified, national profile"),
    ("http_verify", "POST /v1/credentials/verify (in process: app, SQLite, in-process EVM)"),
    ("sign_eddsa", "compact JWS sign, EdDSA"),
    ("verify_eddsa", "compact JWS verify, EdDSA"),
    ("sign_es256", "compact JWS sign, ES256"),
    ("verify_es256", "compact JWS verify, ES256"),
    ("sign_sm2", "compact JWS sign, SM2SM3"),
    ("verify_sm2", "compact JWS verify, SM2SM3"),
)

# Runs under callgrind with the side's root as its working directory. It prints one JSON line:
# the names of the operations it ran, in order (one callgrind dump each), and those it could
# not build on this side (an operation newer than the ref).
CHILD = r"""
import hashlib, inspect, json, sys, time
sys.path.insert(0, ".")
names, calls = sys.argv[1].split(","), int(sys.argv[2])
from wallet_sdk.jose import Curve, Jwk, sign_compact, verify_compact

PAYLOAD = b'{"iss":"did:example:issuer","sub":"did:example:holder","pad":"' + b"x" * 140 + b'"}'
ops, missing = {}, []
for curve, tag in ((Curve.ED25519, "eddsa"), (Curve.P256, "es256"), (Curve.SM2, "sm2")):
    # fixed keys: verification of Ed25519 and ECDSA takes key-dependent work
    key = Jwk.from_private_bytes(curve, hashlib.sha256(b"hrss-bench " + tag.encode()).digest())
    token, public, algs = sign_compact(PAYLOAD, key), key.public(), [curve.algorithm]
    ops["sign_" + tag] = lambda key=key: sign_compact(PAYLOAD, key)
    ops["verify_" + tag] = lambda t=token, p=public, a=algs: verify_compact(t, p, algorithms=a)

if set(names) - set(ops) - {"http_verify"}:  # a credential operation: build its world
    import scripts.bench_credentials as bc
    from wallet_sdk.credentials import issue_sd_jwt, issue_vc_jwt, present_sd_jwt
    s = bc._setup()
    world, issuer, verifier, as_of = s["world"], s["issuer"], s["verifier"], s["as_of"]
    diploma_subject, skill_subject = s["subjects"]
    diploma_type = world.types.get("TechnicalSchoolDiploma")
    skill_type = world.types.get("VocationalSkillCertificate")
    registry = world.status_registry
    presentation = present_sd_jwt(
        s["skill"].token, disclose=["level"], holder_key=s["holder"], nonce="bench-nonce",
        audience="https://verifier.example", issued_at=int(time.time()))
    ops["issue_jwt"] = lambda: issue_vc_jwt(
        credential_type=diploma_type, subject=diploma_subject, issuer_id=issuer.entity_id,
        key=issuer.key, status_registry=registry, issued_at=as_of)
    ops["verify_jwt"] = lambda: verifier.verify_credential(s["diploma"].token, as_of=as_of)
    ops["issue_sd"] = lambda: issue_sd_jwt(
        credential_type=skill_type, subject=skill_subject, issuer_id=issuer.entity_id,
        key=issuer.key, status_registry=registry, issued_at=as_of, holder_key=s["holder"],
        disclosable=["level", "occupationCode"])
    ops["verify_sd"] = lambda: verifier.verify_presentation(
        presentation, nonce="bench-nonce", audience="https://verifier.example", as_of=as_of)
    national = s.get("national")
    if national is not None:
        extra = {}
        if "digest_alg" in inspect.signature(issue_vc_jwt).parameters:
            from wallet_sdk.merkle import HashAlgorithm
            extra["digest_alg"] = HashAlgorithm.SM3
        ops["issue_jwt_national"] = lambda: issue_vc_jwt(
            credential_type=diploma_type, subject=diploma_subject,
            issuer_id=national.entity_id, key=national.key, status_registry=registry,
            issued_at=as_of, **extra)
        ops["verify_jwt_national"] = lambda: verifier.verify_credential(
            s["national_diploma"].token, as_of=as_of)
    for name in ("verify_jwt", "verify_sd", "verify_jwt_national"):
        if name in ops:
            assert ops[name]().passed, name

if "http_verify" in names:
    # POST /v1/credentials/verify through the whole app (middleware, token check, pipeline) in
    # process: SQLite, the registries on an in-process EVM, the demo organisations.
    import tempfile
    from pathlib import Path
    from fastapi.testclient import TestClient
    from pydantic import SecretStr
    from credential_service import Settings, create_app
    from credential_service.bootstrap import bootstrap_demo, load_client_key
    from credential_service.context import ServiceContext
    from credential_service.keystore import FileKeystore
    from credential_service.models import OrganisationKind
    from node_adapter import Chain
    from tests.fixtures.organisations import ASSERTION_TYPE, ISSUER_URL, sign_assertion
    try:
        from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT as SUBJECT
    except ImportError:  # the tree before the tests mirrored the packages
        from tests.unit.credentials.world import DIPLOMA_SUBJECT as SUBJECT
    directory = Path(tempfile.mkdtemp(prefix="hrss-bench-http-"))
    settings = Settings(
        dev_mode=True, database_url=f"sqlite:///{directory / 'service.db'}",
        keystore_path=directory / "service.keystore",
        keystore_passphrase=SecretStr("bench-passphrase"), issuer_url=ISSUER_URL)
    context = ServiceContext.open(settings, chain=Chain.embedded())
    demo = bootstrap_demo(context, client_keystore_path=directory / "clients.keystore",
                          client_passphrase="bench")
    clients = FileKeystore.open(directory / "clients.keystore", "bench")
    client = TestClient(create_app(settings, context=context), base_url=ISSUER_URL)
    client.__enter__()
    first = {}
    for credential in demo:
        first.setdefault(credential.role, credential.client_id)
    def headers(role):
        client_id = first[role]
        assertion = sign_assertion(load_client_key(clients, client_id), client_id=client_id)
        reply = client.post("/v1/auth/token", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion})
        assert reply.status_code == 200, reply.text
        return {"Authorization": "Bearer " + reply.json()["access_token"]}
    school = first[OrganisationKind.ISSUER]
    assert client.put(f"/v1/credential-types/TechnicalSchoolDiploma/issuers/{school}",
                      json={"allowed": True},
                      headers=headers(OrganisationKind.PROVINCE)).status_code == 200
    issued = client.post("/v1/credentials", headers=headers(OrganisationKind.ISSUER), json={
        "credentials": [{"type": "TechnicalSchoolDiploma", "subject": SUBJECT}]})
    assert issued.status_code in (200, 201), issued.text
    body = {"credential": issued.json()["credentials"][0]["credential"]}
    court = headers(OrganisationKind.COURT)
    def http_verify():
        reply = client.post("/v1/credentials/verify", json=body, headers=court)
        assert reply.status_code == 200 and reply.json()["verified"], reply.text
    ops["http_verify"] = http_verify

ran = []
for name in names:
    op = ops.get(name)
    if op is None:
        missing.append(name)
        continue
    for _ in range(max(5, calls // 10)):
        op()
    def loop(op=op):
        for _ in range(calls):
            op()
    sys.call_tracing(loop, ())  # the only caller of sys.call_tracing: callgrind counts inside
    ran.append(name)
print(json.dumps({"ran": ran, "missing": missing}), flush=True)
"""

_TOTALS = re.compile(r"^(?:totals|summary):\s*(\d+)", re.MULTILINE)


class InstructionCountError(RuntimeError):
    """A side could not be measured: its child failed or callgrind's dumps do not match."""


def callgrind_totals(dump: str) -> int:
    """The instruction total of one callgrind profile (its ``totals:`` or ``summary:`` line)."""
    match = _TOTALS.search(dump)
    if match is None:
        raise InstructionCountError("callgrind profile without a totals line")
    return int(match.group(1))


def _dump_index(path: Path, stem: str) -> int:
    suffix = path.name[len(stem) :]
    return int(suffix[1:]) if suffix.startswith(".") and suffix[1:].isdigit() else 0


# Operations whose work runs on other threads than the caller's (the app's sync routes run on
# a worker thread): counted over all threads, in a child of their own.
ALL_THREADS = frozenset({"http_verify"})


def measure_side(root: Path, names: list[str], calls: int, python: str) -> dict[str, float]:
    """Instructions per call of each of `names` with `root`'s packages first on the path: the
    calling thread's only (`--toggle-collect`), or, for `ALL_THREADS`, every thread's in a
    child of their own (zeroed on entering the loop). The second also counts what the app's
    background threads (its chain-event follower) do meanwhile, so it is less repeatable."""
    single = [n for n in names if n not in ALL_THREADS]
    counted = _measure(root, single, calls, python, all_threads=False) if single else {}
    for name in (n for n in names if n in ALL_THREADS):
        counted |= _measure(root, [name], calls, python, all_threads=True)
    return counted


def _measure(
    root: Path, names: list[str], calls: int, python: str, *, all_threads: bool
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="hrss-callgrind-") as scratch:
        stem = "profile"
        out = Path(scratch) / stem
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
        process = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                *(
                    (f"--zero-before={TOGGLE}",)
                    if all_threads
                    else ("--collect-atstart=no", f"--toggle-collect={TOGGLE}")
                ),
                f"--dump-after={TOGGLE}",
                f"--callgrind-out-file={out}",
                python,
                "-c",
                CHILD,
                ",".join(names),
                str(calls),
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if process.returncode != 0:
            raise InstructionCountError(
                f"child failed in {root} (exit {process.returncode}): {process.stderr[-2000:]}"
            )
        report = json.loads(process.stdout.strip().splitlines()[-1])
        dumps = sorted(
            (p for p in Path(scratch).iterdir() if p.name.startswith(stem + ".")),
            key=lambda p: _dump_index(p, stem),
        )
        ran: list[str] = report["ran"]
        if len(dumps) != len(ran):
            raise InstructionCountError(
                f"{len(dumps)} callgrind dumps for {len(ran)} operations in {root}: "
                f"something else called {TOGGLE}"
            )
        return {
            name: callgrind_totals(path.read_text()) / calls
            for name, path in zip(ran, dumps, strict=True)
        }


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """`ref` checked out (detached) in a temporary git worktree, removed afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix="hrss-bench-ref-"))
    path = scratch / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(path), ref],
        cwd=ROOT,
        check=True,
    )
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def table(ref: str, before: dict[str, float], after: dict[str, float], names: list[str]) -> str:
    """The markdown table: instructions per call on each side and the change."""
    rows = [
        f"| operation (`make bench` row) | {ref} | this tree | change |",
        "|---|---|---|---|",
    ]
    labels = dict(OPERATIONS)
    for name in names:
        old, new = before.get(name), after.get(name)
        change = f"{(new - old) / old:+.1%}" if old and new else "new" if new else "gone"
        rows.append(
            f"| {labels[name]} | {'' if old is None else f'{old:,.0f}'} "
            f"| {'' if new is None else f'{new:,.0f}'} | {change} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="git ref to compare with")
    parser.add_argument("--calls", type=int, default=200, help="calls per operation")
    parser.add_argument(
        "--only",
        action="append",
        choices=[name for name, _ in OPERATIONS],
        help="measure only these operations",
    )
    parser.add_argument(
        "--limit",
        type=float,
        default=None,
        help="exit 1 when an operation costs more than this fraction more (0.05 for 5 %%)",
    )
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    names = args.only or [name for name, _ in OPERATIONS]
    with worktree(args.against) as old_root:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            old = pool.submit(measure_side, old_root, names, args.calls, sys.executable)
            new = pool.submit(measure_side, ROOT, names, args.calls, sys.executable)
            before, after = old.result(), new.result()
    print(f"Instructions per call (callgrind), {args.calls} calls each, against {args.against}")
    print()
    print(table(args.against, before, after, names))
    if args.limit is not None:
        worse = [
            n
            for n in names
            if n in before and n in after and after[n] > before[n] * (1 + args.limit)
        ]
        if worse:
            print(f"\nmore than {args.limit:.0%} more instructions: {', '.join(worse)}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
