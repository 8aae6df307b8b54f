"""Transports under `Chain` (internal): the in-process EVM and JSON-RPC with failover.

Each backend runs an operation against a `Web3` object and translates transport failures; the
chain-level meaning of errors (reverts, nonces) is left to `chain.py`.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol, TypeVar

import requests
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import ProviderConnectionError, RequestTimedOut
from web3.middleware import ExtraDataToPOAMiddleware

from .errors import ChainError, ChainUnavailable, ConfigurationError

T = TypeVar("T")

log = logging.getLogger("node_adapter")

_EMBEDDED_SERIALS = itertools.count(1)

# Errors meaning "this node could not be reached or did not answer": try the next URL.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.HTTPError,
    requests.exceptions.ChunkedEncodingError,
    ProviderConnectionError,
    RequestTimedOut,
    ConnectionError,
)


class Backend(Protocol):
    """What `Chain` needs from a transport."""

    kind: str

    def run(self, op: Callable[[Web3], T]) -> T: ...

    def identity(self) -> Hashable: ...

    def set_next_block_timestamp(self, timestamp: int) -> None: ...

    def mine(self, blocks: int) -> None: ...

    def snapshot(self) -> str: ...

    def revert(self, snapshot_id: str) -> None: ...

    def dev_keys(self) -> list[bytes]: ...


class TesterBackend:
    """eth-tester with the py-evm backend, in this process. Calls are serialised by a lock
    because eth-tester is not thread-safe."""

    kind = "embedded"

    def __init__(self) -> None:
        from eth_tester import EthereumTester, PyEVMBackend

        self._backend = PyEVMBackend()
        self.tester = EthereumTester(self._backend)
        self.w3 = Web3(EthereumTesterProvider(self.tester))
        self._lock = threading.RLock()
        self._serial = next(_EMBEDDED_SERIALS)

    def run(self, op: Callable[[Web3], T]) -> T:
        with self._lock:
            return op(self.w3)

    def identity(self) -> Hashable:
        # Never id(self): a collected backend's id is handed to the next one, and with it the
        # nonces tracked for the old chain.
        return ("embedded", self._serial)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        with self._lock:
            chain = self._backend.chain
            parent = chain.get_canonical_head()
            if timestamp <= parent.timestamp:
                raise ChainError(
                    f"timestamp {timestamp} is not after the latest block's {parent.timestamp}"
                )
            # The pending header's timestamp becomes the next mined block's timestamp.
            chain.header = chain.header.copy(timestamp=timestamp)

    def mine(self, blocks: int) -> None:
        with self._lock:
            self.tester.mine_blocks(blocks)

    def snapshot(self) -> str:
        with self._lock:
            return str(self.tester.take_snapshot())

    def revert(self, snapshot_id: str) -> None:
        with self._lock:
            try:
                self.tester.revert_to_snapshot(int(snapshot_id))
            except Exception as err:
                raise ChainError(f"cannot revert to snapshot {snapshot_id}: {err}") from err

    def dev_keys(self) -> list[bytes]:
        keys: Sequence[Any] = self._backend.account_keys
        return [k.to_bytes() if hasattr(k, "to_bytes") else bytes(k) for k in keys]


def _session_for(url: str) -> requests.Session:
    """An HTTP session for one node whose proxy and CA settings are read from the environment
    once, here, instead of on every call: requests scans the whole environment per request
    for them (about 0.5 ms of a 1.8 ms ``eth_blockNumber`` against a local node)."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


def _node_web3(url: str, timeout: float) -> Web3:
    """A `Web3` for one node that reads blocks whatever their ``extraData`` length.

    Proof-of-authority chains (Besu QBFT, Clique) carry the validators and their seals in the
    header's ``extraData`` (hundreds of bytes); web3's validation refuses a block with more
    than 32 unless the PoA middleware moves the field aside first (to
    ``proofOfAuthorityData``), so it is installed on every node, always: on a chain with short
    ``extraData`` it changes nothing that the adapter reads.
    """
    w3 = Web3(
        Web3.HTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            session=_session_for(url),
            # Failover is ours: no retry loops inside web3.
            exception_retry_configuration=None,
        )
    )
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


class RpcBackend:
    """JSON-RPC over HTTP to one or more nodes of the same chain.

    Operations go to the current node; when it cannot be reached the next URL is tried, and the
    one that answers becomes current. `ChainUnavailable` is raised only when every URL failed.
    Blocks are read with any ``extraData`` length (QBFT and Clique headers).
    """

    kind = "rpc"

    def __init__(self, urls: Sequence[str], timeout: float) -> None:
        if not urls:
            raise ConfigurationError("at least one node URL is required")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigurationError(f"unsupported node URL {url!r} (http or https only)")
        if timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        self.urls = tuple(urls)
        self._w3s = [_node_web3(url, timeout) for url in urls]
        self._current = 0
        self._lock = threading.Lock()
        self.expected_chain_id: int | None = None

    @property
    def current_url(self) -> str:
        return self.urls[self._current]

    def run(self, op: Callable[[Web3], T]) -> T:
        start = self._current
        failures: list[str] = []
        last_error: BaseException | None = None
        for step in range(len(self._w3s)):
            index = (start + step) % len(self._w3s)
            w3 = self._w3s[index]
            try:
                if index != self._current:
                    self._check_same_chain(w3, self.urls[index])
                result = op(w3)
            except TRANSPORT_ERRORS as err:
                failures.append(f"{self.urls[index]}: {type(err).__name__}: {err}")
                last_error = err
                log.warning("node %s unreachable: %s", self.urls[index], err)
                continue
            if index != self._current:
                with self._lock:
                    self._current = index
                log.warning("failed over to node %s", self.urls[index])
            return result
        raise ChainUnavailable("no node reachable: " + "; ".join(failures)) from last_error

    def _check_same_chain(self, w3: Web3, url: str) -> None:
        if self.expected_chain_id is None:
            return
        chain_id = int(w3.eth.chain_id)
        if chain_id != self.expected_chain_id:
            raise ConfigurationError(
                f"node {url} serves chain {chain_id}, expected {self.expected_chain_id}"
            )

    def identity(self) -> Hashable:
        def genesis(w3: Web3) -> bytes:
            return bytes(w3.eth.get_block(0)["hash"])

        # Dev nodes of one chain id can share a genesis hash (anvil's is deterministic), so
        # the URLs are part of the identity: nonces are tracked per node set.
        chain_id = self.run(lambda w3: int(w3.eth.chain_id))
        return ("rpc", chain_id, self.run(genesis), self.urls)

    def _request(self, method: str, params: list[Any]) -> Any:
        def op(w3: Web3) -> Any:
            response = w3.provider.make_request(method, params)  # type: ignore[arg-type]  # web3 types params as its RPC params; a JSON list is one
            if "error" in response:
                raise ChainError(f"{method} failed: {response['error']}")
            return response.get("result")

        return self.run(op)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        self._request("evm_setNextBlockTimestamp", [int(timestamp)])

    def mine(self, blocks: int) -> None:
        self._request("anvil_mine", [hex(blocks)]) if blocks > 1 else self._request("evm_mine", [])

    def snapshot(self) -> str:
        return str(self._request("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> None:
        if not self._request("evm_revert", [snapshot_id]):
            raise ChainError(f"node refused to revert to snapshot {snapshot_id}")

    def dev_keys(self) -> list[bytes]:
        from .anvil import ANVIL_DEV_KEYS

        accounts = {a.lower() for a in self._request("eth_accounts", []) or []}
        from eth_account import Account

        keys = [
            bytes.fromhex(k.removeprefix("0x"))
            for k in ANVIL_DEV_KEYS
            if Account.from_key(k).address.lower() in accounts
        ]
        if not keys:
            raise ConfigurationError("the node exposes no known development accounts")
        return keys
