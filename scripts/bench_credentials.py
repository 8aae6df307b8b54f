"""Credentials issued and verified per second, beside didkit's bare JWS issue and verify.

`run() -> list[dict]` (rows for `scripts/bench.py`). Everything is measured in this run on
this machine, single-threaded, best of three rounds, rounds of both sides interleaved so a
load spike hurts both alike:

- hrss issuance: `issue_vc_jwt` / `issue_sd_jwt` (subject checked against the type's JSON
  Schema, W3C VC 2.0 claims, EdDSA signature); no chain or database work (the service adds one
  StatusRegistry transaction per 200 credentials and one outbox row each).
- hrss verification: the whole `CredentialVerifier` pipeline (format and schema, algorithm,
  issuer accredited for the type at issue time, key valid at issue time, signature, status,
  validity, holder binding for presentations) over `CachedTrustState` built from the events of
  an in-process chain: no RPC per credential.
- didkit baseline: PyPI `didkit` (SpruceID, Rust) `issue_credential` / `verify_credential` with
  ``proofFormat: jwt`` and an Ed25519 ``did:key`` (resolved locally, no network). It runs in a
  child process because didkit 0.3.3 aborts the interpreter at exit. When didkit cannot be
  imported, a bare-JWS baseline with the same `cryptography` primitives is reported instead,
  labelled as such.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

ROUNDS = 3
ISSUE_N = 2_000
VERIFY_N = 2_000

_DIDKIT_CHILD = r"""
import asyncio, json, os, sys, time
import didkit
n = int(sys.argv[1])
key = didkit.generate_ed25519_key()
did = didkit.key_to_did("key", key)
async def main():
    vm = await didkit.key_to_verification_method("key", key)
    credential = json.dumps({
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder", "occupationCode": "4-01-02-01",
                              "level": 3},
    })
    options = json.dumps({"proofFormat": "jwt", "verificationMethod": vm,
                          "proofPurpose": "assertionMethod"})
    verify_options = json.dumps({"proofFormat": "jwt"})
    jwt = await didkit.issue_credential(credential, options, key)
    result = json.loads(await didkit.verify_credential(jwt, verify_options))
    assert not result["errors"], result
    t = time.perf_counter()
    for _ in range(n):
        await didkit.issue_credential(credential, options, key)
    issue = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(n):
        await didkit.verify_credential(jwt, verify_options)
    verify = n / (time.perf_counter() - t)
    print(json.dumps({"issue": issue, "verify": verify, "version": didkit.get_version()}))
    sys.stdout.flush()
asyncio.run(main())
os._exit(0)  # didkit 0.3.3 aborts in interpreter finalisation otherwise
"""


def _rate(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def _didkit(n: int) -> dict[str, Any] | None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _DIDKIT_CHILD, str(n)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    return None


def _setup() -> dict[str, Any]:
    from tests.unit.credentials.world import DIPLOMA_SUBJECT, SKILL_SUBJECT, TrustWorld
    from wallet_sdk.credentials import CredentialVerifier
    from wallet_sdk.jose import Curve, Jwk

    world = TrustWorld.build()
    issuer = world.add_issuer(
        "bench-assessor",
        province="guangdong",
        region=440300,
        types=["VocationalSkillCertificate", "TechnicalSchoolDiploma"],
    )
    holder = Jwk.generate(Curve.ED25519)
    diploma = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    skill = world.issue(
        issuer,
        "VocationalSkillCertificate",
        SKILL_SUBJECT,
        sd=True,
        holder_key=holder,
        disclosable=["level", "occupationCode"],
    )
    state = world.cached_state()
    verifier = CredentialVerifier(state, types=world.types)
    direct = CredentialVerifier(world.direct_view(), types=world.types)
    return {
        "direct": direct,
        "world": world,
        "issuer": issuer,
        "holder": holder,
        "diploma": diploma,
        "skill": skill,
        "state": state,
        "verifier": verifier,
        "as_of": world.now(),
        "subjects": (DIPLOMA_SUBJECT, SKILL_SUBJECT),
    }


def run() -> list[dict[str, Any]]:
    from wallet_sdk.credentials import issue_sd_jwt, issue_vc_jwt, present_sd_jwt
    from wallet_sdk.credentials.verifier import ED25519_BACKEND
    from wallet_sdk.jose import JwsAlgorithm, sign_compact, verify_compact

    s = _setup()
    world, issuer, verifier, as_of = s["world"], s["issuer"], s["verifier"], s["as_of"]
    diploma_subject, skill_subject = s["subjects"]
    diploma_type = world.types.get("TechnicalSchoolDiploma")
    skill_type = world.types.get("VocationalSkillCertificate")
    registry = world.status_registry
    now = int(time.time())
    presentation = present_sd_jwt(
        s["skill"].token,
        disclose=["level"],
        holder_key=s["holder"],
        nonce="bench-nonce",
        audience="https://verifier.example",
        issued_at=now,
    )
    jws = sign_compact(b'{"level":3}', issuer.key)
    public = issuer.key.public()
    assert verifier.verify_credential(s["diploma"].token, as_of=as_of).passed
    assert verifier.verify_presentation(
        presentation, nonce="bench-nonce", audience="https://verifier.example", as_of=as_of
    ).passed

    def issue_jwt() -> object:
        return issue_vc_jwt(
            credential_type=diploma_type,
            subject=diploma_subject,
            issuer_id=issuer.entity_id,
            key=issuer.key,
            status_registry=registry,
            issued_at=as_of,
        )

    def issue_sd() -> object:
        return issue_sd_jwt(
            credential_type=skill_type,
            subject=skill_subject,
            issuer_id=issuer.entity_id,
            key=issuer.key,
            status_registry=registry,
            issued_at=as_of,
            holder_key=s["holder"],
            disclosable=["level", "occupationCode"],
        )

    def verify_jwt() -> object:
        return verifier.verify_credential(s["diploma"].token, as_of=as_of)

    def verify_sd() -> object:
        return verifier.verify_presentation(
            presentation, nonce="bench-nonce", audience="https://verifier.example", as_of=as_of
        )

    direct_rate = _rate(lambda: s["direct"].verify_credential(s["diploma"].token, as_of=as_of), 30)
    ours: dict[str, float] = {}
    didkit_rates: dict[str, float] = {}
    didkit_version = None
    for _ in range(ROUNDS):
        for name, fn, n in (
            ("issue_jwt", issue_jwt, ISSUE_N),
            ("issue_sd", issue_sd, ISSUE_N // 2),
            ("verify_jwt", verify_jwt, VERIFY_N),
            ("verify_sd", verify_sd, VERIFY_N // 2),
            ("bare_sign", lambda: sign_compact(b'{"level":3}', issuer.key), ISSUE_N),
            (
                "bare_verify",
                lambda: verify_compact(jws, public, algorithms=[JwsAlgorithm.EDDSA]),
                VERIFY_N,
            ),
        ):
            ours[name] = max(ours.get(name, 0.0), _rate(fn, n))
        result = _didkit(ISSUE_N)
        if result is not None:
            didkit_version = result.get("version")
            for name in ("issue", "verify"):
                didkit_rates[name] = max(didkit_rates.get(name, 0.0), float(result[name]))

    if didkit_rates:
        base_label = f"didkit {didkit_version} (Ed25519 did:key, proofFormat jwt)"
        base_issue, base_verify = didkit_rates["issue"], didkit_rates["verify"]
    else:
        base_label = "didkit not importable: bare JWS with the same cryptography primitives"
        base_issue, base_verify = ours["bare_sign"], ours["bare_verify"]

    def row(benchmark: str, value: float, baseline: float | None, note: str) -> dict[str, Any]:
        return {
            "benchmark": benchmark,
            "value": f"{value:,.0f}",
            "baseline": "" if baseline is None else f"{baseline:,.0f}",
            "unit": "per second, 1 thread",
            "note": note
            + ("" if baseline is None else f"; ratio {value / baseline:.2f} vs {base_label}"),
        }

    return [
        row(
            "vc+jwt credentials issued",
            ours["issue_jwt"],
            base_issue,
            "EdDSA, schema-checked VC 2.0 diploma; signing only (chain and outbox are batched)",
        ),
        row(
            "vc+jwt credentials verified, whole pipeline",
            ours["verify_jwt"],
            base_verify,
            "9 named checks over the event-fed chain cache (no RPC per credential); "
            f"Ed25519 by {ED25519_BACKEND}",
        ),
        row(
            "vc+sd-jwt credentials issued",
            ours["issue_sd"],
            base_issue,
            "7 disclosures + 2 decoys, holder key in cnf",
        ),
        row(
            "SD-JWT presentations verified, whole pipeline",
            ours["verify_sd"],
            base_verify,
            "disclosure digests, issuer signature, KB-JWT with nonce, aud, sd_hash; "
            f"Ed25519 by {ED25519_BACKEND}",
        ),
        row(
            "vc+jwt verified without the cache (DirectTrustView)",
            direct_rate,
            None,
            "context: the same pipeline asking the contracts (in-process EVM) for every check",
        ),
        row(
            "bare compact JWS signed (wallet_sdk.jose)",
            ours["bare_sign"],
            None,
            "context: the floor of issuance with these primitives",
        ),
        row(
            "bare compact JWS verified (wallet_sdk.jose)",
            ours["bare_verify"],
            None,
            "context: wallet_sdk.jose always uses OpenSSL (cryptography)",
        ),
    ]


if __name__ == "__main__":
    for result_row in run():
        print(result_row)
