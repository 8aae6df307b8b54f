"""Compiled contract artifacts shipped in `node_adapter/artifacts/<Name>.json`."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ._abi import Codec, codec_for
from .errors import ConfigurationError

__all__ = ["ARTIFACTS_DIR", "CONTRACT_NAMES", "load_artifact"]

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
CONTRACT_NAMES = ("TrustRegistry", "AnchorRegistry", "StatusRegistry", "ConsentRegistry")


@functools.cache
def _load(name: str) -> dict[str, Any]:
    path = ARTIFACTS_DIR / f"{name}.json"
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigurationError(f"no compiled artifact for {name} at {path}") from err
    except (OSError, ValueError) as err:
        raise ConfigurationError(f"unreadable artifact {path}: {err}") from err
    if not isinstance(artifact, dict) or not isinstance(artifact.get("abi"), list):
        raise ConfigurationError(f"artifact {path} has no ABI")
    for key in ("bytecode", "deployedBytecode"):
        if not isinstance(artifact.get(key), str):
            raise ConfigurationError(f"artifact {path} has no {key}")
    return artifact


def load_artifact(name: str) -> dict[str, Any]:
    """The artifact of contract `name`: a dict with `abi`, `bytecode`, `deployedBytecode`,
    `compiler`. The same (cached, do not mutate) object is returned on every call, so its `abi`
    can be used as a cache key.

    Raises `ConfigurationError` when it is missing or malformed.
    """
    if "/" in name or "\\" in name or name.startswith("."):
        raise ConfigurationError(f"invalid contract name {name!r}")
    return _load(name)


def artifact_codecs() -> list[Codec]:
    """Codecs of every shipped contract, to decode errors bubbling up from another contract."""
    codecs = []
    for name in CONTRACT_NAMES:
        try:
            codecs.append(codec_for(load_artifact(name)["abi"]))
        except ConfigurationError:
            continue
    return codecs
