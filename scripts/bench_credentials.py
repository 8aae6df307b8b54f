"""Credentials issued and verified per second, beside didkit's bare JWS issue and verify.

`run() -> list[dict]` (rows for `scripts/bench.py`). Everything is measured in this run on
this machine, single-threaded. After one untimed warm-up pass on each side, `ROUNDS` rounds
alternate: in each, our vc+jwt issue and our vc+jwt verify are each followed at once by
didkit's issue and verify over the same number of calls (the SD-JWT rows are compared with
the same didkit figures). Each row reports the best round of each side (medians in the
note), and the ratio is best over best, so a load spike or a slow round hurts neither side:

- hrss issuance: `issue_vc_jwt` / `issue_sd_jwt` (subject checked against the type's JSON
  Schema, W3C VC 2.0 claims, EdDSA signature); no chain or database work (the service adds one
  StatusRegistry transaction per 200 credentials and one outbox row each).
- hrss verification: the whole `CredentialVerifier` pipeline (format and schema, algorithm,
  issuer accredited for the type at issue time, key valid at issue time, signature, status,
  validity, holder binding for presentations) over `CachedTrustState` built from the events of
  an in-process chain: no RPC per credential.
- didkit baseline: PyPI `didkit` (SpruceID, Rust) `issue_credential` / `verify_credential` with
  ``proofFormat: jwt`` and an Ed25519 ``did:key`` (resolved locally, no network). It runs in
  one long-lived child process (didkit 0.3.3 aborts the interpreter at exit), asked for one
  measurement at a time; the pipe round trip is outside its timed loop. When didkit cannot be
  imported, a bare-JWS baseline with the same `cryptography` primitives is reported instead,
  labelled as such.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

ROUNDS = 5
ISSUE_N = 2_000
VERIFY_N = 2_000

_DIDKIT_CHILD = r"""
import asyncio, json, os, sys, time
import didkit
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
    print(json.dumps({"ready": True, "version": didkit.get_version()}), flush=True)
    # One measurement per request, so the parent can interleave them with its own.
    for line in sys.stdin:
        what, n = line.split()
        n = int(n)
        t = time.perf_counter()
        if what == "issue":
            for _ in range(n):
                await didkit.issue_credential(credential, options, key)
        else:
            for _ in range(n):
                await didkit.verify_credential(jwt, verify_options)
        print(json.dumps({"rate": n / (time.perf_counter() - t)}), flush=True)
asyncio.run(main())
os._exit(0)  # didkit 0.3.3 aborts in interpreter finalisation otherwise
"""


def _rate(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


class _Didkit:
    """didkit in one long-lived child process (didkit 0.3.3 aborts the interpreter at exit),
    asked for one measurement at a time so its rounds alternate with ours: both sides are
    warm, and a load spike or frequency change hits whichever round it falls in, either side."""

    def __init__(self) -> None:
        self.version: str | None = None
        self._child: subprocess.Popen[str] | None = None
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-c", _DIDKIT_CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            ready = self._reply()
        except OSError:
            ready = None
        if ready is None or not ready.get("ready"):
            self.close()
            return
        self.version = ready.get("version")

    @property
    def available(self) -> bool:
        return self._child is not None

    def _reply(self) -> dict[str, Any] | None:
        assert self._child is not None and self._child.stdout is not None
        for line in self._child.stdout:
            if line.startswith("{"):
                reply: dict[str, Any] = json.loads(line)
                return reply
        return None

    def rate(self, what: str, n: int) -> float | None:
        """Credentials per second over `n` calls of didkit's ``issue`` or ``verify``."""
        if self._child is None or self._child.stdin is None:
            return None
        try:
            self._child.stdin.write(f"{what} {n}\n")
            self._child.stdin.flush()
            reply = self._reply()
        except OSError:
            reply = None
        if reply is None:
            self.close()
            return None
        return float(reply["rate"])

    def close(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            if child.stdin is not None:
                child.stdin.close()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _setup() -> dict[str, Any]:
    from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, SKILL_SUBJECT, TrustWorld
    from wallet_sdk.credentials import CredentialVerifier
    from wallet_sdk.jose import Curve, Jwk
    from wallet_sdk.merkle import HashAlgorithm

    world = TrustWorld.build()
    issuer = world.add_issuer(
        "bench-assessor",
        province="guangdong",
        region=440300,
        types=["VocationalSkillCertificate", "TechnicalSchoolDiploma"],
    )
    # the national profile's issuer: an SM2 key registered on chain (ALG_SM2)
    national = world.add_issuer(
        "bench-assessor-sm2",
        province="guangdong",
        region=440300,
        types=["TechnicalSchoolDiploma"],
        curve=Curve.SM2,
    )
    holder = Jwk.generate(Curve.ED25519)
    diploma = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    national_diploma = world.issue(
        national, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, digest_alg=HashAlgorithm.SM3
    )
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
        "national": national,
        "national_diploma": national_diploma,
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
    from wallet_sdk.merkle import HashAlgorithm

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
    national = s["national"]
    assert verifier.verify_credential(s["national_diploma"].token, as_of=as_of).passed
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

    def issue_jwt_national() -> object:
        return issue_vc_jwt(
            credential_type=diploma_type,
            subject=diploma_subject,
            issuer_id=national.entity_id,
            key=national.key,
            status_registry=registry,
            issued_at=as_of,
            digest_alg=HashAlgorithm.SM3,
        )

    def verify_jwt_national() -> object:
        return verifier.verify_credential(s["national_diploma"].token, as_of=as_of)

    def verify_sd() -> object:
        return verifier.verify_presentation(
            presentation, nonce="bench-nonce", audience="https://verifier.example", as_of=as_of
        )

    direct_rate = _rate(lambda: s["direct"].verify_credential(s["diploma"].token, as_of=as_of), 30)
    didkit = _Didkit()
    # Each entry: our function and n, and the didkit measurement it is compared with.
    ours_plan: tuple[tuple[str, Callable[[], object], int, str], ...] = (
        ("issue_jwt", issue_jwt, ISSUE_N, "issue"),
        ("issue_sd", issue_sd, ISSUE_N // 2, "issue"),
        ("verify_jwt", verify_jwt, VERIFY_N, "verify"),
        ("verify_sd", verify_sd, VERIFY_N // 2, "verify"),
        # SM2 runs at about a tenth of Ed25519's rate: fewer calls keep the rounds short
        ("issue_jwt_national", issue_jwt_national, ISSUE_N // 4, "issue"),
        ("verify_jwt_national", verify_jwt_national, VERIFY_N // 4, "verify"),
        ("bare_sign", lambda: sign_compact(b'{"level":3}', issuer.key), ISSUE_N, "issue"),
        (
            "bare_verify",
            lambda: verify_compact(jws, public, algorithms=[JwsAlgorithm.EDDSA]),
            VERIFY_N,
            "verify",
        ),
    )
    ours: dict[str, list[float]] = {name: [] for name, *_ in ours_plan}
    didkit_rates: dict[str, list[float]] = {"issue": [], "verify": []}
    try:
        # One untimed warm-up pass on both sides, then ROUNDS rounds in which our vc+jwt issue
        # and verify are each followed by didkit's counterpart over the same n.
        for _name, fn, n, _counterpart in ours_plan:
            _rate(fn, n // 10)
        for what in ("issue", "verify"):
            didkit.rate(what, ISSUE_N // 10)
        for _ in range(ROUNDS):
            for name, fn, n, counterpart in ours_plan:
                ours[name].append(_rate(fn, n))
                if name in ("issue_jwt", "verify_jwt"):
                    rate = didkit.rate(counterpart, n)
                    if rate is not None:
                        didkit_rates[counterpart].append(rate)
    finally:
        didkit.close()

    best = {name: max(rates) for name, rates in ours.items()}
    median = {name: statistics.median(rates) for name, rates in ours.items()}
    if all(len(rates) == ROUNDS for rates in didkit_rates.values()):
        base_label = f"didkit {didkit.version} (Ed25519 did:key, proofFormat jwt)"
        base_best = {what: max(rates) for what, rates in didkit_rates.items()}
        base_median = {what: statistics.median(rates) for what, rates in didkit_rates.items()}
    else:
        base_label = "didkit not importable: bare JWS with the same cryptography primitives"
        base_best = {"issue": best["bare_sign"], "verify": best["bare_verify"]}
        base_median = {"issue": median["bare_sign"], "verify": median["bare_verify"]}
    how = (
        f"best of {ROUNDS} rounds alternating with the baseline's, each side warmed up; "
        "ratio of the bests"
    )

    def national_row(benchmark: str, name: str, international: str, note: str) -> dict[str, Any]:
        """A national-profile row beside the same operation in the international profile
        (EdDSA), measured in the same rounds."""
        return {
            "benchmark": benchmark,
            "value": f"{best[name]:,.0f}",
            "baseline": f"{best[international]:,.0f}",
            "unit": "per second, 1 thread",
            "note": f"{note}; baseline: the EdDSA row above (international profile), same "
            f"rounds; ratio {best[name] / best[international]:.2f}; best of {ROUNDS} rounds "
            f"(medians {median[name]:,.0f} vs {median[international]:,.0f})",
        }

    def row(benchmark: str, name: str, baseline: str | None, note: str) -> dict[str, Any]:
        if baseline is None:
            return {
                "benchmark": benchmark,
                "value": f"{best[name]:,.0f}",
                "baseline": "",
                "unit": "per second, 1 thread",
                "note": f"{note}; best of {ROUNDS} rounds (median {median[name]:,.0f})",
            }
        return {
            "benchmark": benchmark,
            "value": f"{best[name]:,.0f}",
            "baseline": f"{base_best[baseline]:,.0f}",
            "unit": "per second, 1 thread",
            "note": f"{note}; ratio {best[name] / base_best[baseline]:.2f} vs {base_label}; "
            f"{how} (medians {median[name]:,.0f} vs {base_median[baseline]:,.0f})",
        }

    return [
        row(
            "vc+jwt credentials issued",
            "issue_jwt",
            "issue",
            "EdDSA, schema-checked VC 2.0 diploma; signing only (chain and outbox are batched)",
        ),
        row(
            "vc+jwt credentials verified, whole pipeline",
            "verify_jwt",
            "verify",
            "9 named checks over the event-fed chain cache (no RPC per credential); "
            f"Ed25519 by {ED25519_BACKEND}",
        ),
        row(
            "vc+sd-jwt credentials issued",
            "issue_sd",
            "issue",
            "7 disclosures + 2 decoys, holder key in cnf",
        ),
        row(
            "SD-JWT presentations verified, whole pipeline",
            "verify_sd",
            "verify",
            "disclosure digests, issuer signature, KB-JWT with nonce, aud, sd_hash; "
            f"Ed25519 by {ED25519_BACKEND}",
        ),
        national_row(
            "vc+jwt credentials issued, national profile",
            "issue_jwt_national",
            "issue_jwt",
            "SM2SM3 (tongsuopy), SM3 credential digest, the same schema-checked diploma",
        ),
        national_row(
            "vc+jwt credentials verified, whole pipeline, national profile",
            "verify_jwt_national",
            "verify_jwt",
            "the same 9 checks; an SM2 issuer key registered on chain (ALG_SM2), the "
            "registered digest SM3",
        ),
        {
            "benchmark": "vc+jwt verified without the cache (DirectTrustView)",
            "value": f"{direct_rate:,.0f}",
            "baseline": "",
            "unit": "per second, 1 thread",
            "note": "context: the same pipeline asking the contracts (in-process EVM) for every "
            "check; one round of 30",
        },
        row(
            "bare compact JWS signed (wallet_sdk.jose)",
            "bare_sign",
            None,
            "context: the floor of issuance with these primitives",
        ),
        row(
            "bare compact JWS verified (wallet_sdk.jose)",
            "bare_verify",
            None,
            "context: wallet_sdk.jose always uses OpenSSL (cryptography)",
        ),
    ]


if __name__ == "__main__":
    for result_row in run():
        print(result_row)
