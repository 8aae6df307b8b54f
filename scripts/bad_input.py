"""The bad-input campaign: ``python -m scripts.bad_input [--examples N] [--api-examples M]``.

Three parts, all in this process, loopback only, bounded by the example counts:

1. **Parsers** (hypothesis): random text, JOSE-shaped tokens with random headers and payloads,
   and mutations of valid seeds (a signed ``vc+jwt``, an SD-JWT credential and its key-bound
   presentation, a ``vp+jwt``, an anchor receipt, an evidence package) go through
   ``wallet_sdk.jose.read_unverified_header`` / ``verify_compact``, ``AnchorReceipt.parse``,
   ``EvidencePackage.parse`` and ``verify_evidence``, ``disclosed_claim_names`` and the
   credential verifier (``verify_credential`` / ``verify_presentation`` in report mode),
   ``Jwk.from_jwk`` and ``parse_qr_payload``. A parser may reject with the package's own
   error (`wallet_sdk.WalletError`); any other exception is a failure. The verifier in report
   mode may not raise at all.
2. **API** (schemathesis): positive and negative requests generated from the service's
   OpenAPI spec, anonymous and with a real access token of every demo role, against the real
   app (SQLite, in-process chain). Any 5xx is a failure.
3. **Oversized bodies**: declared ``Content-Length`` over the limit, chunked bodies without
   one, oversized multipart uploads: each must be answered 413 with the common error body.
4. **Deep and wide JSON** (`deep_json_texts`, `wide_json_texts`): arrays and objects nested
   up to 500,000 levels (closed, unclosed, inside an envelope) and structures with up to
   200,000 members go to every parser above (as token headers and payloads, disclosures,
   receipts, evidence packages, QR payloads) and, in a service with a 1 MiB body limit, to
   every route that takes a JSON body and to the evidence upload. Deep JSON must be refused
   (`JsonTooDeep` from a parser, 400 ``too_deep`` from the API); wide JSON must never get a
   5xx; and the process must survive all of it (a decoder overflowing the stack kills it).

Prints a tally per target; exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import random
import re
import secrets
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSETS = Path(__file__).resolve().parent.parent / "tests" / "assets" / "wallet_sdk"


# ---------------------------------------------------------------------------- tally


@dataclass
class Tally:
    """What one target saw: examples run, how they ended, and the failures (first few)."""

    target: str
    examples: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def fail(self, description: str) -> None:
        self.outcomes["FAILURE"] += 1
        if len(self.failures) < 5:
            self.failures.append(description)

    @property
    def failed(self) -> int:
        return self.outcomes["FAILURE"]

    def row(self) -> str:
        seen = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()) if k != "FAILURE")
        return f"| {self.target} | {self.examples} | {self.failed} | {seen} |"


def print_tally(tallies: list[Tally], *, title: str) -> None:
    print(f"\n{title}\n")
    print("| target | examples | failures | outcomes |")
    print("|---|---|---|---|")
    for tally in tallies:
        print(tally.row())
    for tally in tallies:
        for failure in tally.failures:
            print(f"\nFAILURE in {tally.target}:\n{failure}")
    total = sum(t.examples for t in tallies)
    failed = sum(t.failed for t in tallies)
    print(f"\ntotal: {total} examples, {failed} failures")


def _run(
    tally: Tally, call: Callable[[], Any], *, allowed: tuple[type[BaseException], ...]
) -> None:
    tally.examples += 1
    try:
        result = call()
    except allowed as err:
        tally.outcomes[f"rejected:{type(err).__name__}"] += 1
        return
    except Exception as err:  # the point of the campaign: anything else is a finding
        tally.fail(f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}")
        return
    verdict = getattr(result, "passed", None)
    tally.outcomes["accepted" if verdict is None else f"report:passed={verdict}"] += 1


# ---------------------------------------------------------------------------- strategies


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
_header_members = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["EdDSA", "ES256", "none", "HS256", "RS256", "ES256K", ""])
        | st.text(max_size=8),
        "typ": st.sampled_from(["vc+jwt", "vc+sd-jwt", "vp+jwt", "kb+jwt", "JWT", "dc+sd-jwt"]),
        "kid": st.text(max_size=50),
        "crit": st.lists(st.text(max_size=8), max_size=2),
        "jwk": st.dictionaries(st.text(max_size=4), st.text(max_size=50), max_size=4),
        "b64": st.booleans(),
    },
)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def _segment(value: Any) -> str:
    return b64(value if isinstance(value, bytes) else _json_bytes(value))


jose_tokens = st.builds(
    lambda header, payload, signature: ".".join(
        [_segment(header), _segment(payload), b64(signature)]
    ),
    _header_members,
    st.one_of(json_values, st.binary(max_size=64)),
    st.binary(max_size=96),
)


def mutate_text(rng: random.Random, text: str) -> str:
    """A few random edits: replace, delete, insert, duplicate, truncate, reorder on ``.``/``~``."""
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randint(0, 12))
        if op == 0 and text:
            text = text[:i] + rng.choice('A_-.~=+/0\x00é{}"') + text[i + 1 :]
        elif op == 1:
            text = text[:i] + text[j:]
        elif op == 2:
            text = (
                text[:i]
                + rng.choice(["~", ".", "eyJ", "==", " ", "~~", "\n", "a" * 300])
                + text[i:]
            )
        elif op == 3:
            text = text[:i] + text[i:j] + text[i:]
        elif op == 4:
            text = text[: rng.randrange(len(text) + 1)]
        elif op == 5:
            sep = rng.choice(".~")
            parts = text.split(sep)
            rng.shuffle(parts)
            text = sep.join(parts)
        else:
            parts = text.split(".")
            k = rng.randrange(len(parts))
            parts[k] = b64(_json_bytes(rng.choice([{}, [], None, 1, "x", {"alg": "none"}])))
            text = ".".join(parts)
    return text


def mutate_json(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """The JSON value with one random change somewhere inside."""
    replacements: list[Any] = [
        None,
        True,
        -1,
        0,
        2**64,
        1.5,
        "",
        "x" * 70,
        "0x" + "00" * 32,
        [],
        {},
    ]
    if isinstance(value, dict) and value and depth < 6:
        key = rng.choice(list(value))
        copy = dict(value)
        roll = rng.random()
        if roll < 0.15:
            del copy[key]
        elif roll < 0.25:
            copy[rng.choice(["extra", "__proto__", key + "_", ""])] = rng.choice(replacements)
        else:
            copy[key] = mutate_json(rng, value[key], depth + 1)
        return copy
    if isinstance(value, list) and value and depth < 6:
        copy = list(value)
        index = rng.randrange(len(copy))
        roll = rng.random()
        if roll < 0.2:
            del copy[index]
        elif roll < 0.3:
            copy.append(copy[index])
        else:
            copy[index] = mutate_json(rng, copy[index], depth + 1)
        return copy
    if isinstance(value, str) and value and rng.random() < 0.6:
        return mutate_text(rng, value)
    if isinstance(value, int) and not isinstance(value, bool) and rng.random() < 0.6:
        return rng.choice([value + 1, value - 1, -value, value * 2**40])
    return rng.choice(replacements)


def deep_json(depth: int, shape: str) -> bytes:
    """JSON text nested ``depth`` levels: ``array`` ``[[[1]]]``, ``object``
    ``{"a":{"a":1}}``, ``mixed`` arrays of objects, ``unclosed`` ``[[[`` never closed,
    ``enveloped`` an array that is the value of a member of an ordinary object."""
    if shape == "array":
        return b"[" * depth + b"1" + b"]" * depth
    if shape == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    if shape == "mixed":
        half = depth // 2 + 1
        return b'[{"a":' * half + b"1" + b"}]" * half
    if shape == "unclosed":
        return b"[" * depth
    if shape == "enveloped":
        return b'{"credential": "x", "nested": ' + deep_json(depth, "array") + b"}"
    raise ValueError(shape)


def wide_json(members: int, shape: str) -> bytes:
    """JSON text one or two levels deep with ``members`` members: ``numbers``
    ``[0,0,...]``, ``empty arrays`` ``[[],[],...]``, ``keys`` ``{"k0":0,...}``,
    ``strings of brackets`` ``["[[[[",...]`` (brackets that do not nest)."""
    if shape == "numbers":
        return b"[" + b"0," * members + b"0]"
    if shape == "empty arrays":
        return b"[" + b"[]," * members + b"[]]"
    if shape == "keys":
        return b"{" + b",".join(b'"k%d":0' % i for i in range(members)) + b"}"
    if shape == "strings of brackets":
        return b"[" + b'"[[[[{{{{",' * members + b"0]"
    raise ValueError(shape)


DEEP_SHAPES = ("array", "object", "mixed", "unclosed", "enveloped")
WIDE_SHAPES = ("numbers", "empty arrays", "keys", "strings of brackets")


def _fitting(texts: list[bytes], limit: int) -> list[bytes]:
    return [t for t in texts if len(t) <= limit]


def deep_json_texts(
    *, max_bytes: int, depths: tuple[int, ...] = (1000, 10_000, 100_000, 500_000)
) -> list[bytes]:
    """Deep JSON of every shape, just over the SDK's nesting limit, at ``depths``, and as
    deep as ``max_bytes`` holds."""
    from wallet_sdk.nesting import MAX_JSON_DEPTH

    depths = (MAX_JSON_DEPTH + 1, *depths)
    texts = [deep_json(d, shape) for d in depths for shape in DEEP_SHAPES]
    texts += [deep_json(max_bytes // 2 - 1, "array")]
    return _fitting(texts, max_bytes)


def wide_json_texts(
    *, max_bytes: int, members: tuple[int, ...] = (10, 1000, 20_000, 200_000)
) -> list[bytes]:
    """Wide JSON of every shape with so many ``members``, up to ``max_bytes``."""
    return _fitting([wide_json(n, shape) for n in members for shape in WIDE_SHAPES], max_bytes)


# ---------------------------------------------------------------------------- seeds


@dataclass
class Seeds:
    """Valid inputs to mutate, and the verifier that knows their issuer."""

    vc_jwt: str
    sd_jwt: str
    sd_presentation: str
    vp_jwt: str
    nonce: str
    audience: str
    issuer_key: Any
    verifier: Any
    receipt: dict[str, Any]
    evidence: dict[str, Any]
    evidence_view: Any
    registries: tuple[str, str]


def build_seeds() -> Seeds:
    """An in-process chain with the Ministry, a province and an accredited issuer, one
    ``vc+jwt`` and one SD-JWT credential, presentations of both, and the shipped receipt and
    evidence examples."""
    from eth_hash.auto import keccak

    from node_adapter import Chain, KeyAlgorithm, KeyPurpose, Kind, Signer, deploy_registries
    from wallet_sdk.credentials import (
        CachedTrustState,
        CredentialVerifier,
        StatusRegistryRef,
        default_registry,
        disclosed_claim_names,
        issue_sd_jwt,
        issue_vc_jwt,
        present_sd_jwt,
        present_vc_jwt,
    )
    from wallet_sdk.evidence.chain import NodeEvidenceChainView
    from wallet_sdk.jose import Curve, Jwk

    def org(name: str) -> bytes:
        return bytes(keccak(b"hrss:org:bad-input:" + name.encode()))

    chain = Chain.embedded()
    ministry, province = chain.dev_signers(2)
    deployment = deploy_registries(
        chain,
        deployer=ministry,
        ministry_id=org("ministry"),
        ministry_region=100000,
        ministry_controller=ministry.address,
    )
    clients = deployment.clients(chain)
    trust = clients.trust_registry
    trust.accredit(
        ministry, id=org("beijing"), kind=Kind.PROVINCE, region=110000,
        parent=org("ministry"), controllers=[province.address],
    )  # fmt: skip
    controller = Signer.generate()
    chain.fund(controller.address, 10**20)
    issuer_id = org("school")
    trust.accredit(
        province, id=issuer_id, kind=Kind.ISSUER, region=110105,
        parent=org("beijing"), controllers=[controller.address],
    )  # fmt: skip
    types = default_registry()
    skill = types.get("VocationalSkillCertificate")
    trust.set_credential_type(province, id=issuer_id, credential_type=skill.type_id, allowed=True)
    key = Jwk.generate(Curve.ED25519)
    now = chain.block().timestamp
    trust.register_key(
        controller, id=issuer_id, key_id=key.thumbprint(), alg=KeyAlgorithm.EDDSA,
        purpose=KeyPurpose.CREDENTIAL_SIGNING, public_key=key.raw_public_key(),
    )  # fmt: skip
    now = chain.block().timestamp  # the key is valid from its registration block
    subject = {
        "name": "王小明",
        "idNumber": "11010519900307123X",
        "occupationCode": "4-01-02-01",
        "occupationName": "电工",
        "level": 3,
        "certificateNumber": "S440300202600123",
        "assessedOn": "2026-06-01",
    }
    holder = Jwk.generate(Curve.ED25519)
    common: dict[str, Any] = dict(
        credential_type=skill,
        subject=subject,
        issuer_id=issuer_id,
        key=key,
        status_registry=StatusRegistryRef(deployment.chain_id, deployment.status_registry),
        issued_at=now,
    )
    vc = issue_vc_jwt(holder_key=holder, **common)
    sd = issue_sd_jwt(holder_key=holder, **common)
    clients.status_registry.register(
        controller,
        issuer=issuer_id,
        credential_ids=[vc.credential_id, sd.credential_id],
        digests=[vc.digest, sd.digest],
    )
    nonce, audience = secrets.token_urlsafe(12), "https://verifier.example"
    sd_presentation = present_sd_jwt(
        sd.token,
        disclose=disclosed_claim_names(sd.token)[:1],
        holder_key=holder,
        nonce=nonce,
        audience=audience,
        issued_at=now,
    )
    vp = present_vc_jwt(
        [vc.token], holder_key=holder, nonce=nonce, audience=audience, issued_at=now
    )
    verifier = CredentialVerifier(CachedTrustState.from_chain(chain, deployment), types=types)
    return Seeds(
        vc_jwt=vc.token,
        sd_jwt=sd.token,
        sd_presentation=sd_presentation,
        vp_jwt=vp,
        nonce=nonce,
        audience=audience,
        issuer_key=key,
        verifier=verifier,
        receipt=json.loads((ASSETS / "anchor-receipt-1.example.json").read_text()),
        evidence=json.loads((ASSETS / "evidence-1.example.json").read_text()),
        evidence_view=NodeEvidenceChainView(chain),
        registries=(deployment.anchor_registry, deployment.trust_registry),
    )


# ---------------------------------------------------------------------------- 1. parsers


def fuzz_parsers(seeds: Seeds, *, examples: int) -> list[Tally]:
    """Every parser target, `examples` hypothesis examples each."""
    from wallet_sdk import AnchorReceipt, WalletError
    from wallet_sdk.credentials import disclosed_claim_names
    from wallet_sdk.evidence import EvidencePackage, verify_evidence
    from wallet_sdk.jose import Jwk, JwsAlgorithm, read_unverified_header, verify_compact
    from wallet_sdk.qr import parse_qr_payload

    token_seeds = [seeds.vc_jwt, seeds.sd_jwt, seeds.sd_presentation, seeds.vp_jwt]
    tokens = st.one_of(
        st.text(max_size=200),
        jose_tokens,
        st.builds(
            lambda t, ds: t + "~" + "~".join(ds) + "~",
            jose_tokens,
            st.lists(st.text(max_size=30), max_size=3),
        ),
        st.builds(mutate_text, st.randoms(use_true_random=False), st.sampled_from(token_seeds)),
        st.sampled_from(token_seeds),
    )
    fuzz = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    tallies: list[Tally] = []
    allowed = (WalletError,)

    def target(
        name: str,
        strategy: Any,
        call: Callable[[Any], Any],
        *,
        ok: tuple[type[BaseException], ...] = allowed,
    ) -> None:
        tally = Tally(name)

        @fuzz
        @given(strategy)
        def run(value: Any) -> None:
            _run(tally, lambda: call(value), allowed=ok)

        run()
        tallies.append(tally)

    target("jose.read_unverified_header", tokens, read_unverified_header)
    target(
        "jose.verify_compact",
        tokens,
        lambda t: verify_compact(
            t, seeds.issuer_key, algorithms=[JwsAlgorithm.EDDSA, JwsAlgorithm.ES256]
        ),
    )
    target("credentials.disclosed_claim_names", tokens, disclosed_claim_names)
    # report mode: the verifier reports failed checks and must not raise at all
    target(
        "CredentialVerifier.verify_credential",
        tokens,
        lambda t: seeds.verifier.verify_credential(t, strict=False),
        ok=(),
    )
    target(
        "CredentialVerifier.verify_presentation",
        tokens,
        lambda t: seeds.verifier.verify_presentation(
            t, nonce=seeds.nonce, audience=seeds.audience, strict=False
        ),
        ok=(),
    )
    receipts = st.one_of(
        st.builds(mutate_json, st.randoms(use_true_random=False), st.just(seeds.receipt)),
        json_values,
        st.text(max_size=300),
        st.builds(
            lambda r, v: mutate_text(r, json.dumps(v)),
            st.randoms(use_true_random=False),
            st.just(seeds.receipt),
        ),
    )
    target("AnchorReceipt.parse", receipts, AnchorReceipt.parse)
    packages = st.one_of(
        st.builds(mutate_json, st.randoms(use_true_random=False), st.just(seeds.evidence)),
        st.builds(
            lambda r, v: mutate_text(r, json.dumps(v, ensure_ascii=False)).encode(),
            st.randoms(use_true_random=False),
            st.just(seeds.evidence),
        ),
        json_values,
        st.binary(max_size=300),
    )
    target("EvidencePackage.parse", packages, EvidencePackage.parse)
    anchor_registry, trust_registry = seeds.registries
    target(
        "evidence.verify_evidence",
        st.one_of(
            packages.map(lambda p: p if isinstance(p, bytes) else json.dumps(p).encode()),
            st.just(json.dumps(seeds.evidence).encode()),
        ),
        lambda p: verify_evidence(
            p,
            None,
            seeds.evidence_view,
            anchor_registry=anchor_registry,
            trust_registry=trust_registry,
            strict=False,
        ),
    )
    jwk = seeds.issuer_key.public_jwk()
    target(
        "Jwk.from_jwk",
        st.one_of(
            st.builds(mutate_json, st.randoms(use_true_random=False), st.just(jwk)),
            json_values,
            st.text(max_size=100),
        ),
        Jwk.from_jwk,
    )
    target(
        "qr.parse_qr_payload",
        st.one_of(
            tokens,
            st.builds(lambda t: "hrss:" + t, tokens),
            st.text(max_size=120),
        ),
        lambda text: parse_qr_payload(
            text, trusted_keys={}, now=int(time.time()), audience="https://a.example"
        ),
    )
    return tallies


# ---------------------------------------------------------------------------- 2. API


@dataclass
class RunningService:
    client: Any
    headers_by_role: dict[str, dict[str, str]]
    max_body: int


@contextmanager
def running_service(
    *, database_url: str | None = None, max_body: int = 64 * 1024
) -> Iterator[RunningService]:
    """The real app over SQLite (or `database_url`) and an in-process chain, demo
    organisations bootstrapped, an access token per role."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from credential_service import Settings, create_app
    from credential_service.bootstrap import bootstrap_demo, load_client_key
    from credential_service.context import ServiceContext
    from credential_service.keystore import FileKeystore
    from credential_service.service_client import client_assertion
    from node_adapter import Chain

    issuer = "http://testserver"
    with tempfile.TemporaryDirectory(prefix="hrss-bad-input-") as tmp:
        directory = Path(tmp)
        settings = Settings(
            dev_mode=True,
            database_url=database_url or f"sqlite:///{directory / 'hrss.db'}",
            keystore_path=directory / "service.keystore",
            keystore_passphrase=SecretStr("bad-input-campaign-passphrase"),
            issuer_url=issuer,
            max_body_bytes=max_body,
            access_log=False,
            # the tokens are made once and the API part alone can outlast the 300 s default
            access_token_lifetime_seconds=3600,
        )
        context = ServiceContext.open(settings, chain=Chain.embedded())
        try:
            credentials = bootstrap_demo(
                context,
                client_keystore_path=directory / "clients.keystore",
                client_passphrase="demo",
            )
            keystore = FileKeystore.open(directory / "clients.keystore", "demo")
            app = create_app(settings, context=context)
            with TestClient(app, base_url=issuer) as client:
                headers: dict[str, dict[str, str]] = {}
                for credential in credentials:
                    role = credential.role.value
                    if role in headers:
                        continue
                    private = load_client_key(keystore, credential.client_id)
                    assertion = client_assertion(
                        private,
                        client_id=credential.client_id,
                        token_endpoint=f"{issuer}/v1/auth/token",
                    )
                    response = client.post(
                        "/v1/auth/token",
                        data={
                            "grant_type": "client_credentials",
                            "client_assertion_type": ASSERTION_TYPE,
                            "client_assertion": assertion,
                        },
                    )
                    response.raise_for_status()
                    headers[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
                yield RunningService(client=client, headers_by_role=headers, max_body=max_body)
        finally:
            context.close()


def fuzz_api(service: RunningService, *, examples: int) -> Tally:
    """schemathesis over the OpenAPI spec: positive and negative cases, anonymous or as any
    demo role. A 5xx is a failure."""
    import schemathesis
    from schemathesis import GenerationMode

    tally = Tally("OpenAPI (schemathesis, all operations)")
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    cases = st.one_of(
        schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    identities = st.sampled_from([None, *sorted(service.headers_by_role)])

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=cases, role=identities)
    def run(case: Any, role: str | None) -> None:
        tally.examples += 1
        headers = None if role is None else service.headers_by_role[role]
        try:
            response = case.call(headers=headers)
        except Exception as err:  # the client could not even send it: count, do not fail
            tally.outcomes[f"unsendable:{type(err).__name__}"] += 1
            return
        tally.outcomes[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            tally.fail(
                f"{response.status_code} for {case.as_curl_command()}\n{response.text[:500]}"
            )

    run()
    return tally


# ---------------------------------------------------------------------------- 3. oversized


def oversized_bodies(service: RunningService) -> Tally:
    """Bodies over the limit, declared or streamed, JSON or multipart: 413, common body."""
    tally = Tally("oversized bodies (413)")
    client = service.client
    limit = service.max_body
    auth = next(iter(service.headers_by_role.values()))
    big = b"x" * (limit + 1)
    try:
        from credential_service.api.main import DOCUMENT_UPLOAD_BYTES as upload_limit
    except ImportError:  # an app factory with one limit for every path
        upload_limit = limit

    def chunked(size: int) -> Iterator[bytes]:
        sent = 0
        while sent < size:
            piece = min(16 * 1024, size - sent)
            sent += piece
            yield b"a" * piece

    attempts: list[tuple[str, Callable[[], Any]]] = [
        ("declared JSON to /v1/credentials/verify",
         lambda: client.post("/v1/credentials/verify", content=big,
                             headers={**auth, "Content-Type": "application/json"})),
        ("chunked JSON to /v1/credentials/verify",
         lambda: client.post("/v1/credentials/verify", content=chunked(limit + 1),
                             headers={**auth, "Content-Type": "application/json"})),
        ("declared form to /v1/auth/token",
         lambda: client.post("/v1/auth/token", content=big,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})),
        ("chunked form to /v1/auth/token",
         lambda: client.post("/v1/auth/token", content=chunked(4 * limit),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})),
        ("streamed multipart to /v1/evidence/verify (its own, larger limit)",
         lambda: client.post("/v1/evidence/verify", content=chunked(upload_limit + 1),
                             headers={"Content-Type": "multipart/form-data; boundary=x"})),
        ("streamed multipart to /v1/labour-contracts (its own, larger limit)",
         lambda: client.post("/v1/labour-contracts", content=chunked(upload_limit + 1),
                             headers={**auth, "Content-Type": "multipart/form-data; boundary=x"})),
        ("JSON digests to /v1/anchors",
         lambda: client.post("/v1/anchors", content=big,
                             headers={**auth, "Content-Type": "application/json"})),
        ("bogus Content-Length",
         lambda: client.post("/v1/credentials/verify", content=b"{}",
                             headers={**auth, "Content-Type": "application/json",
                                      "Content-Length": "99999999999999999999"})),
    ]  # fmt: skip
    for name, send in attempts:
        tally.examples += 1
        try:
            response = send()
        except Exception as err:  # a transport error on a refused body is acceptable only as 413
            tally.fail(f"{name}: {type(err).__name__}: {err}")
            continue
        body = _json_or_none(response)
        if response.status_code == 413 and body and body.get("code") == "request_body_too_large":
            tally.outcomes["413"] += 1
        else:
            tally.fail(f"{name}: {response.status_code} {response.text[:200]}")
    return tally


def _json_or_none(response: Any) -> dict[str, Any] | None:
    try:
        value = response.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# ---------------------------------------------------------------------------- 4. deep, wide


def nesting_parsers(seeds: Seeds) -> list[Tally]:
    """Deep and wide JSON through every parser: deep must raise `JsonTooDeep` (the verifier
    in report mode: a failed ``format`` check), wide anything but another exception."""
    from wallet_sdk import AnchorReceipt, WalletError
    from wallet_sdk.credentials import disclosed_claim_names
    from wallet_sdk.evidence import EvidencePackage, verify_evidence
    from wallet_sdk.jose import DEFAULT_MAX_TOKEN_BYTES, read_unverified_header
    from wallet_sdk.qr import parse_qr_payload

    token_room = DEFAULT_MAX_TOKEN_BYTES * 3 // 4 - 64  # base64url grows text by 4/3
    qr_room = 2953 * 3 // 4 - 64
    disclosure_room = (DEFAULT_MAX_TOKEN_BYTES - len(seeds.sd_jwt)) * 3 // 4 - 64
    header = b64(b'{"alg":"EdDSA","typ":"vc+jwt"}')
    anchor_registry, trust_registry = seeds.registries

    def tokens(texts: list[bytes]) -> list[str]:
        return [f"{header}.{b64(t)}.c2ln" for t in texts] + headers(texts)

    def headers(texts: list[bytes]) -> list[str]:
        return [f"{b64(t)}.e30.c2ln" for t in texts]

    def disclosures(texts: list[bytes]) -> list[str]:
        jwt = seeds.sd_jwt.split("~")[0]
        return [f"{jwt}~{b64(t)}~" for t in texts]

    def texts(values: list[bytes]) -> list[str]:
        return [v.decode() for v in values]

    def raw(values: list[bytes]) -> list[bytes]:
        return values

    def qr(values: list[bytes]) -> list[str]:
        return ["hrss:" + t for t in tokens(values)]

    def evidence(package: bytes) -> Any:
        return verify_evidence(
            package, None, seeds.evidence_view, anchor_registry=anchor_registry,
            trust_registry=trust_registry, strict=False,
        )  # fmt: skip

    def credential_report(token: str) -> Any:
        return seeds.verifier.verify_credential(token, strict=False)

    def qr_payload(text: str) -> Any:
        return parse_qr_payload(
            text, trusted_keys={}, now=int(time.time()), audience="https://a.example"
        )

    # name, room (bytes of JSON the input format holds), JSON text to input, parser, and
    # whether it reports (must not raise; deep input a failed format check) or raises
    Target = tuple[str, int, Callable[[list[bytes]], list[Any]], Callable[[Any], Any], bool]
    targets: list[Target] = [
        ("jose.read_unverified_header", token_room, headers, read_unverified_header, False),
        ("credentials.disclosed_claim_names", disclosure_room, disclosures,
         disclosed_claim_names, False),
        ("CredentialVerifier.verify_credential", token_room, tokens, credential_report, True),
        ("CredentialVerifier.verify_credential (SD-JWT disclosures)", disclosure_room,
         disclosures, credential_report, True),
        ("AnchorReceipt.parse", 64 * 1024, texts, AnchorReceipt.parse, False),
        ("EvidencePackage.parse", 1024 * 1024, raw, EvidencePackage.parse, False),
        ("evidence.verify_evidence", 1024 * 1024, raw, evidence, True),
        ("qr.parse_qr_payload", qr_room, qr, qr_payload, False),
    ]  # fmt: skip
    tallies: list[Tally] = []
    for name, room, inputs, call, reports in targets:
        deep_tally, wide_tally = Tally(f"deep JSON: {name}"), Tally(f"wide JSON: {name}")
        for value in inputs(deep_json_texts(max_bytes=room)):
            _expect_too_deep(deep_tally, functools.partial(call, value), reports=reports)
        for value in inputs(wide_json_texts(max_bytes=room)):
            _run(
                wide_tally,
                functools.partial(call, value),
                allowed=() if reports else (WalletError,),
            )
        tallies += [deep_tally, wide_tally]
    return tallies


TOO_DEEP = "nests arrays and objects deeper than"


def _expect_too_deep(tally: Tally, call: Callable[[], Any], *, reports: bool) -> None:
    """``call`` on deep JSON must refuse it for its depth: a `WalletError` saying so, or, for
    a verifier in report mode, a failed report saying so."""
    from wallet_sdk import WalletError

    tally.examples += 1
    try:
        result = call()
    except WalletError as err:
        if TOO_DEEP in str(err) and not reports:
            tally.outcomes["refused: too deep"] += 1
        else:
            tally.fail(f"{type(err).__name__} not for its depth: {err}")
        return
    except Exception as err:  # anything else is a finding
        tally.fail(f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}")
        return
    if reports and not result.passed and TOO_DEEP in str(result.to_dict()):
        tally.outcomes["report: failed, too deep"] += 1
    else:
        tally.fail(f"deep JSON not refused for its depth: {str(result)[:300]}")


def nesting_bodies(
    service: RunningService,
    *,
    depths: tuple[int, ...] = (100_000,),
    members: tuple[int, ...] = (1000, 100_000),
) -> list[Tally]:
    """Deep and wide JSON bodies to every operation that takes JSON, anonymous and with a
    token, and deep evidence packages to the upload: deep is 400 ``too_deep``, wide never
    5xx, and the service still answers after."""
    client = service.client
    auth = next(iter(service.headers_by_role.values()))
    operations = []
    for path, item in client.app.openapi()["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operations.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    deep_tally, wide_tally = Tally("deep JSON bodies (400 too_deep)"), Tally("wide JSON bodies")
    json_type = {"Content-Type": "application/json"}
    # every shape per route, anonymous and authenticated; the parsers part has more depths
    deep_bodies = deep_json_texts(max_bytes=service.max_body, depths=depths)
    wide_bodies = wide_json_texts(max_bytes=service.max_body, members=members)
    for method, path in operations:
        for headers in ({}, auth):
            for body in deep_bodies:
                deep_tally.examples += 1
                response = client.request(method, path, content=body,
                                          headers={**headers, **json_type})  # fmt: skip
                answer = _json_or_none(response)
                if response.status_code == 400 and answer and answer.get("code") == "too_deep":
                    deep_tally.outcomes["400 too_deep"] += 1
                else:
                    deep_tally.fail(f"{method} {path}: {response.status_code} "
                                    f"{response.text[:200]}")  # fmt: skip
            for body in wide_bodies:
                wide_tally.examples += 1
                response = client.request(method, path, content=body,
                                          headers={**headers, **json_type})  # fmt: skip
                wide_tally.outcomes[f"{response.status_code // 100}xx"] += 1
                if response.status_code >= 500:
                    wide_tally.fail(f"{method} {path}: {response.status_code} "
                                    f"{response.text[:200]}")  # fmt: skip
    for body in deep_bodies:
        deep_tally.examples += 1
        response = client.post("/v1/evidence/verify", files={"package": ("p.json", body)})
        answer = _json_or_none(response)
        if response.status_code == 400 and answer and answer.get("code") == "too_deep":
            deep_tally.outcomes["400 too_deep (evidence upload)"] += 1
        else:
            deep_tally.fail(f"evidence upload: {response.status_code} {response.text[:200]}")
    if client.get("/healthz").status_code != 200:
        deep_tally.fail("the service no longer answers /healthz")
    return [deep_tally, wide_tally]


# ---------------------------------------------------------------------------- main


def campaign(*, examples: int, api_examples: int, database_url: str | None = None) -> list[Tally]:
    """Run all four parts and return their tallies."""
    seeds = build_seeds()
    tallies = fuzz_parsers(seeds, examples=examples)
    tallies += nesting_parsers(seeds)
    with running_service(database_url=database_url) as service:
        tallies.append(fuzz_api(service, examples=api_examples))
        tallies.append(oversized_bodies(service))
        # the nesting part shares the database: it creates nothing (every body is refused
        # or invalid), so the API part's counts are unaffected
    with running_service(database_url=database_url, max_body=1024 * 1024) as service:
        tallies += nesting_bodies(service)
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=1000, help="per parser target")
    parser.add_argument("--api-examples", type=int, default=1000, help="schemathesis cases")
    parser.add_argument(
        "--database-url", help="PostgreSQL URL of an EMPTY database (default: SQLite)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tallies = campaign(
        examples=args.examples, api_examples=args.api_examples, database_url=args.database_url
    )
    print_tally(tallies, title=f"bad-input campaign ({time.perf_counter() - started:.0f} s)")
    return 1 if any(t.failed for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
