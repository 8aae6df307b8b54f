"""The verification page for court clerks (劳动人事争议仲裁 evidence check): static HTML, CSS
and JavaScript, served by ``credential_service.api.routes.evidence`` at ``/verify``.

The page posts the dropped document and evidence package to ``POST /v1/evidence/verify``,
which runs `wallet_sdk.evidence.verify_evidence` against the chain, and renders the verdict,
the named checks and the timeline. Chinese first, English on a toggle (``?lang=en``).
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

__all__ = ["STATIC_FILES", "static_file"]

STATIC_FILES = {
    "verify.html": "text/html; charset=utf-8",
    "verify.js": "text/javascript; charset=utf-8",
    "verify.css": "text/css; charset=utf-8",
}


def static_file(name: str) -> Traversable:
    """A packaged static file. Raises `KeyError` for a name not in `STATIC_FILES`."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return resources.files("credential_service.web").joinpath(name)
