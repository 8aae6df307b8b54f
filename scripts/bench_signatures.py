"""Compact JWS sign and verify rates per key algorithm (`wallet_sdk.jose`), for `make bench`.

`run() -> list[dict]` (rows for `scripts/bench.py`): Ed25519 and P-256 through `cryptography`
(OpenSSL), SM2 with SM3 through `tongsuopy` (Tongsuo), the same 200-byte payload, one thread.
The SM2 rows carry the P-256 rate of this run as their baseline.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from wallet_sdk.jose import Curve, Jwk, sign_compact, verify_compact

ROUNDS = 5
CALLS = 500
PAYLOAD = b'{"iss":"did:example:issuer","sub":"did:example:holder","pad":"' + b"x" * 140 + b'"}'


def _rates(fn: Callable[[], object]) -> tuple[float, float]:
    for _ in range(50):
        fn()
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS):
            fn()
        rates.append(CALLS / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


def run() -> list[dict[str, Any]]:
    """Measure each curve's sign and verify rates; returns the rows."""
    measured: dict[tuple[Curve, str], tuple[float, float]] = {}
    for curve in (Curve.ED25519, Curve.P256, Curve.SM2):
        key = Jwk.generate(curve)
        public = key.public()
        token = sign_compact(PAYLOAD, key)
        algorithms = [curve.algorithm]
        measured[curve, "sign"] = _rates(lambda key=key: sign_compact(PAYLOAD, key))
        measured[curve, "verify"] = _rates(
            lambda token=token, public=public, algorithms=algorithms: verify_compact(
                token, public, algorithms=algorithms
            )
        )
    rows = []
    for curve, library in (
        (Curve.ED25519, "cryptography (OpenSSL)"),
        (Curve.P256, "cryptography (OpenSSL)"),
        (Curve.SM2, "tongsuopy (Tongsuo)"),
    ):
        for what in ("sign", "verify"):
            best, median = measured[curve, what]
            baseline = measured[Curve.P256, what][0] if curve is Curve.SM2 else None
            note = (
                f"{curve.algorithm} by {library}; best of {ROUNDS} x {CALLS} (median {median:,.0f})"
            )
            if baseline is not None:
                note += f"; ratio {best / baseline:.2f} vs ES256 in this run"
            rows.append(
                {
                    "benchmark": f"compact JWS {what}, {curve.algorithm}",
                    "value": f"{best:,.0f}",
                    "baseline": "" if baseline is None else f"{baseline:,.0f}",
                    "unit": "per second, 1 thread",
                    "note": note,
                }
            )
    return rows
