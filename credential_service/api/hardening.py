"""HTTP hardening: per-client rate limits, CORS off unless allow-listed, security headers.

Rate limits are token buckets in this process. A request carrying a bearer token whose
signature verifies against the service's token key is counted against its subject (the
organisation's credit code or the cardholder's address), so one client gets one bucket however
many addresses it calls from and nobody can spend another client's bucket by naming it; any
other request is counted against its peer address (run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips`` behind a load balancer so that address is the caller's, not the
balancer's). A refused request gets 429 with the common error body and ``Retry-After``; it never
reaches the audit trail or the database. With N processes each keeps its own buckets, so the
effective limit is N times the configured one: the configured rate is per process.

Security headers go on every response: ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY`` and a Content-Security-Policy with
``frame-ancestors 'none'``: ``default-src 'none'`` for API answers, same-origin scripts, styles
and fetches for HTML pages (the verification page), and the CDN Swagger UI needs on ``/docs``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credential_service.errors import ConfigurationError
from credential_service.observability.service_metrics import HTTP_RATE_LIMITED
from credential_service.services.tokens import JwtRejected, verify_jwt

if TYPE_CHECKING:
    from credential_service.core.config import Settings

__all__ = [
    "RateLimitMiddleware",
    "RateLimitPolicy",
    "SecurityHeadersMiddleware",
    "TokenBuckets",
    "install_hardening",
    "rate_limit_policy",
]

RATE_LIMITED = "rate_limited"
_EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """Sustained rate (requests a second) and burst, for authenticated clients and for
    anonymous callers (by address). A rate of 0 turns limiting off."""

    client_rate: float
    client_burst: int
    anonymous_rate: float
    anonymous_burst: int


class TokenBuckets:
    """Token buckets by key, at most ``max_keys`` of them (the least recently used go first:
    a bucket not seen for a while would be full again anyway, so forgetting it is exact once
    it has refilled and lenient before)."""

    def __init__(self, *, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, *, now: float | None = None) -> float:
        """Take one token for `key`. Returns 0.0 when allowed, else the seconds until a token
        is available."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class _VerifiedSubjects:
    """Bearer token → subject, for tokens whose signature verified; bounded, expiring."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._max = max_entries

    def subject(self, token: str, app_state: Any) -> str | None:
        now = time.time()
        found = self._entries.get(token)
        if found is not None:
            if found[1] > now:
                return found[0]
            del self._entries[token]
        context = getattr(app_state, "context", None)
        if context is None:
            return None
        try:
            claims = verify_jwt(
                token,
                context.token_key.key,
                typ=None,
                audiences=None,
                issuer=None,
                leeway=timedelta(0),
                now=now,
                require=("sub", "exp"),
            )
        except (JwtRejected, AttributeError, TypeError, ValueError):
            return None
        subject = claims.get("sub")
        if not isinstance(subject, str):
            return None
        self._entries[token] = (subject, float(claims["exp"]))
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return subject


def bearer_token(scope: Scope) -> str | None:
    """The credentials of a ``Bearer`` Authorization header, ``None`` without one."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
            return None
    return None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, policy: RateLimitPolicy) -> None:
        self.app = app
        self.policy = policy
        self.clients = (
            TokenBuckets(rate=policy.client_rate, burst=policy.client_burst)
            if policy.client_rate > 0
            else None
        )
        self.anonymous = (
            TokenBuckets(rate=policy.anonymous_rate, burst=policy.anonymous_burst)
            if policy.anonymous_rate > 0
            else None
        )
        self.subjects = _VerifiedSubjects()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _EXEMPT:
            await self.app(scope, receive, send)
            return
        subject = None
        token = bearer_token(scope)
        if token is not None:
            subject = self.subjects.subject(token, scope["app"].state)
        if subject is not None:
            buckets, key, kind = self.clients, f"client:{subject}", "client"
        else:
            client = scope.get("client")
            buckets, key, kind = self.anonymous, f"ip:{client[0] if client else '-'}", "address"
        wait = 0.0 if buckets is None else buckets.take(key)
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        HTTP_RATE_LIMITED.inc(kind=kind)
        retry_after = max(1, math.ceil(wait))
        scope.setdefault("state", {})["error_code"] = RATE_LIMITED
        response = JSONResponse(
            {
                "code": RATE_LIMITED,
                "message": "too many requests; retry later",
                "detail": {"retry_after": retry_after, "limited_by": kind},
            },
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)


_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# The docs pages load their assets from this service (routes/docs.py), nothing from a CDN;
# Swagger UI and ReDoc start from an inline script, and ReDoc runs its search in a blob worker.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if scope["path"] in _DOCS_PATHS:
                    csp = _DOCS_CSP
                elif content_type.startswith(b"text/html"):
                    csp = _PAGE_CSP
                else:
                    csp = _API_CSP
                for name, value in _COMMON:
                    if name not in present:
                        headers.append((name, value))
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp.encode("ascii")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_secured)


def install_hardening(
    app: FastAPI,
    *,
    policy: RateLimitPolicy,
    cors_allow_origins: tuple[str, ...],
) -> None:
    """Add rate limiting, CORS (only for listed origins) and security headers, in that order
    from the inside out; call after the audit middleware so refused requests cost nothing.

    Raises `ConfigurationError` when the CORS allow-list holds ``*``: the API takes bearer
    tokens, and the allow-list must name origins.
    """
    app.add_middleware(RateLimitMiddleware, policy=policy)
    if cors_allow_origins:
        if "*" in cors_allow_origins:
            raise ConfigurationError("HRSS_CORS_ALLOW_ORIGINS must list origins, not '*'")
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_allow_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)


def rate_limit_policy(settings: Settings) -> RateLimitPolicy:
    """The policy of `settings`: the configured rates, or 100 a second per client and 20 per
    anonymous address when unset, off when unset in dev mode."""

    def rate(configured: float | None, default: float) -> float:
        if configured is not None:
            return configured
        return 0.0 if settings.dev_mode else default

    return RateLimitPolicy(
        client_rate=rate(settings.rate_limit_per_second, 100.0),
        client_burst=settings.rate_limit_burst,
        anonymous_rate=rate(settings.anonymous_rate_limit_per_second, 20.0),
        anonymous_burst=settings.anonymous_rate_limit_burst,
    )
