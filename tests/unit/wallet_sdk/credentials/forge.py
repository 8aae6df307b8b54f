"""Building hostile tokens for reject tests: arbitrary headers, payloads and signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from wallet_sdk.jose import Jwk, _sign_raw, b64url_decode, b64url_encode


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def encode(obj: Any) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())


def sign(header: dict[str, Any], payload: dict[str, Any], key: Jwk) -> str:
    signing_input = f"{encode(header)}.{encode(payload)}"
    return f"{signing_input}.{b64url_encode(_sign_raw(key, signing_input.encode()))}"


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{encode(header)}.{encode(payload)}."


def hs256(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{encode(header)}.{encode(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def replace_payload(token: str, payload: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{encode(payload)}.{signature}"
