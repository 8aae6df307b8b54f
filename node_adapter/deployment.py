"""Deploying the four registries and remembering where they are."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from ._client import address, bytes32, uint
from .anchor_registry import AnchorRegistryClient
from .artifacts import load_artifact
from .chain import Chain
from .consent_registry import ConsentRegistryClient
from .errors import ConfigurationError
from .signer import Signer
from .status_registry import StatusRegistryClient
from .trust_registry import TrustRegistryClient

__all__ = ["Deployment", "RegistryClients", "deploy_registries"]


class RegistryClients(NamedTuple):
    """The four typed clients of one deployment."""

    trust_registry: TrustRegistryClient
    anchor_registry: AnchorRegistryClient
    status_registry: StatusRegistryClient
    consent_registry: ConsentRegistryClient


@dataclass(frozen=True)
class Deployment:
    """Where the registries of one chain live. Saved as JSON next to the service's config."""

    chain_id: int
    trust_registry: str
    anchor_registry: str
    status_registry: str
    consent_registry: str
    deployed_block: int

    def __post_init__(self) -> None:
        for name in ("trust_registry", "anchor_registry", "status_registry", "consent_registry"):
            object.__setattr__(self, name, address(name, getattr(self, name)))
        uint("chain_id", self.chain_id, 256)
        uint("deployed_block", self.deployed_block, 64)

    def clients(self, chain: Chain) -> RegistryClients:
        """Typed clients on `chain`. Raises `ConfigurationError` when `chain` is another chain."""
        if chain.chain_id != self.chain_id:
            raise ConfigurationError(
                f"deployment is on chain {self.chain_id}, not on chain {chain.chain_id}"
            )
        return RegistryClients(
            TrustRegistryClient(chain, self.trust_registry),
            AnchorRegistryClient(chain, self.anchor_registry),
            StatusRegistryClient(chain, self.status_registry),
            ConsentRegistryClient(chain, self.consent_registry),
        )

    def registries_without_code(self, chain: Chain) -> tuple[str, ...]:
        """The registries (contract names) whose address on `chain` does not hold their
        contract's runtime code, as compiled: empty when the deployment is in place. A stale
        deployment file (the chain was reset, or it is another chain) names them all.

        Raises `ChainUnavailable` and the like when the chain cannot be read.
        """
        return tuple(
            name
            for name, field in _REGISTRY_FIELDS
            if not _is_runtime_code(name, chain.code(getattr(self, field)))
        )

    def check_code(self, chain: Chain) -> None:
        """Raise `ConfigurationError` unless `chain` is this deployment's chain and every
        registry address holds its contract's code (`registries_without_code`); errors reading
        the chain (`ChainUnavailable` ...) pass through."""
        if chain.chain_id != self.chain_id:
            raise ConfigurationError(
                f"deployment is on chain {self.chain_id}, not on chain {chain.chain_id}"
            )
        missing = self.registries_without_code(chain)
        if missing:
            raise ConfigurationError(
                f"chain {chain.chain_id} does not hold this deployment: no {', '.join(missing)} "
                f"code at its address (a deployment made on a chain since reset?)"
            )

    def save(self, path: Path) -> None:
        """Write as JSON, atomically (temporary file and rename)."""
        path = Path(path)
        text = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a saved deployment. Raises `ConfigurationError` when missing or malformed."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                chain_id=int(data["chain_id"]),
                trust_registry=str(data["trust_registry"]),
                anchor_registry=str(data["anchor_registry"]),
                status_registry=str(data["status_registry"]),
                consent_registry=str(data["consent_registry"]),
                deployed_block=int(data["deployed_block"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ConfigurationError(f"cannot read deployment {path}: {err}") from err


_REGISTRY_FIELDS = (
    ("TrustRegistry", "trust_registry"),
    ("AnchorRegistry", "anchor_registry"),
    ("StatusRegistry", "status_registry"),
    ("ConsentRegistry", "consent_registry"),
)


@functools.cache
def _compiled_runtime_code(name: str) -> bytes:
    return bytes.fromhex(load_artifact(name)["deployedBytecode"].removeprefix("0x"))


def _is_runtime_code(name: str, code: bytes) -> bool:
    """Whether `code` is contract `name`'s compiled runtime code. Immutables (a registry's
    trust registry address, EIP-712 domain values) are written at deployment over the zeros
    the compiler leaves for them, so bytes may differ only where the compiled code has zero."""
    expected = _compiled_runtime_code(name)
    return len(code) == len(expected) and all(
        want in (0, got) for want, got in zip(expected, code, strict=True)
    )


def deploy_registries(
    chain: Chain,
    *,
    deployer: Signer,
    ministry_id: bytes,
    ministry_region: int,
    ministry_controller: str,
) -> Deployment:
    """Deploy `TrustRegistry` (with the Ministry as its root), then the anchor, status and
    consent registries pointing at it. Raises `ConfigurationError` when an artifact is missing,
    `TransactionReverted` / `ChainUnavailable` / `ChainTimeout` as any transaction does."""
    trust = load_artifact("TrustRegistry")
    receipt = chain.deploy(
        deployer,
        trust["abi"],
        trust["bytecode"],
        [
            bytes32("ministry_id", ministry_id),
            uint("ministry_region", ministry_region, 32),
            address("ministry_controller", ministry_controller),
        ],
    )
    trust_address = receipt.contract_address
    assert trust_address is not None  # Chain.deploy guarantees it
    addresses = {}
    for name in ("AnchorRegistry", "StatusRegistry", "ConsentRegistry"):
        artifact = load_artifact(name)
        deployed = chain.deploy(deployer, artifact["abi"], artifact["bytecode"], [trust_address])
        assert deployed.contract_address is not None
        addresses[name] = deployed.contract_address
    return Deployment(
        chain_id=chain.chain_id,
        trust_registry=trust_address,
        anchor_registry=addresses["AnchorRegistry"],
        status_registry=addresses["StatusRegistry"],
        consent_registry=addresses["ConsentRegistry"],
        deployed_block=receipt.block_number,
    )
