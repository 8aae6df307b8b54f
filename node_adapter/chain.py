"""`Chain`: one EVM chain behind any backend, with checked receipts and managed nonces."""

from __future__ import annotations

import ast
import functools
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)

from ._abi import ABI, Codec, DecodedRevert, codec_for, decode_revert, encode_error_string
from ._backends import Backend, RpcBackend, TesterBackend
from .errors import (
    ChainError,
    ChainRollback,
    ChainTimeout,
    ChainUnavailable,
    ConfigurationError,
    TransactionReverted,
)
from .signer import Signer

__all__ = ["Block", "Chain", "ChainTransaction", "DecodedEvent", "RawLog", "TxReceipt"]

log = logging.getLogger("node_adapter")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

BlockId = int | str

# Gas added on top of the node's estimate: estimates are exact for the state they ran on, and
# the state can move (another anchor, a status change) before the transaction is mined.
_GAS_MARGIN_NUM, _GAS_MARGIN_DEN = 6, 5
_GAS_MARGIN_MIN = 25_000
_DEFAULT_PRIORITY_FEE = 1_000_000_000
_EMBEDDED_GAS_LIMIT = 12_000_000
# When a receipt is late, check this long after sending whether the transaction can be mined
# at all, then every second; give up after this many checks in a row find a nonce gap.
_GAP_CHECK_AFTER = 2.0
_GAP_CHECKS = 3


@dataclass(frozen=True)
class Block:
    """A block header's essentials."""

    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int


@dataclass(frozen=True)
class RawLog:
    """A log that could not be decoded against the ABI it was read with."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class DecodedEvent:
    """A log decoded against a contract ABI: `name` is the event, `args` its fields by name."""

    name: str
    args: Mapping[str, Any]
    address: str
    block_number: int
    block_hash: bytes
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class TxReceipt:
    """A mined transaction whose status was checked (only successful ones are returned)."""

    tx_hash: str
    block_number: int
    block_hash: bytes
    gas_used: int
    status: int
    contract_address: str | None = None
    effective_gas_price: int = 0
    tx_type: int = 0
    logs: tuple[DecodedEvent | RawLog, ...] = field(default=())

    @property
    def events(self) -> tuple[DecodedEvent, ...]:
        """The logs that decoded against the ABI, in order."""
        return tuple(e for e in self.logs if isinstance(e, DecodedEvent))

    def event(self, name: str) -> DecodedEvent:
        """The first decoded event called `name`; raises `ChainError` when there is none."""
        for e in self.events:
            if e.name == name:
                return e
        raise ChainError(f"transaction {self.tx_hash} emitted no {name} event")


@dataclass(frozen=True)
class ChainTransaction:
    """A transaction as mined in a block: who sent what to whom.

    `hash` is the 0x-hex transaction hash (as in `TxReceipt.tx_hash`), `index` its position in
    the block, `to` the checksummed recipient (`None` for a contract creation), `input` the
    calldata (for a creation: init code and constructor arguments). Failed transactions are
    included: their input is on chain all the same.
    """

    hash: str
    block_number: int
    index: int
    sender: str
    to: str | None
    input: bytes
    nonce: int


class _NonceSlot:
    __slots__ = ("lock", "next")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next: int | None = None


class _NonceBook:
    """Next nonce per (chain, sender), shared by every `Chain` object in this process, so that
    concurrent sends from threads never reuse or skip a nonce."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[Hashable, str], _NonceSlot] = {}

    def slot(self, chain_key: Hashable, address: str) -> _NonceSlot:
        key = (chain_key, address.lower())
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _NonceSlot()
            return slot

    def forget_chain(self, chain_key: Hashable) -> None:
        with self._lock:
            slots = [slot for (key, _), slot in self._slots.items() if key == chain_key]
        for slot in slots:
            with slot.lock:
                slot.next = None


_NONCES = _NonceBook()


def _is_nonce_conflict(message: str) -> bool:
    text = message.lower()
    return any(
        marker in text
        for marker in (
            "nonce too low",
            "nonce_too_low",
            "replacement transaction underpriced",
            "replacement_underpriced",
            "nonce has already been used",
            "known transaction",
            "invalid transaction nonce",
        )
    )


def _is_already_known(message: str) -> bool:
    text = message.lower()
    return "already known" in text or "already imported" in text


def _revert_payload(err: BaseException) -> tuple[bytes | None, str] | None:
    """Revert data and message carried by a backend exception, or `None` if it is no revert."""
    if isinstance(err, ContractLogicError):
        data = err.data
        raw: bytes | None = None
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str):
            text = data.removeprefix("Reverted ").strip()
            if text.startswith("0x"):
                try:
                    raw = bytes.fromhex(text[2:])
                except ValueError:
                    raw = None
        return raw, str(err.message or "execution reverted")
    if type(err).__name__ == "TransactionFailed":  # eth_tester.exceptions.TransactionFailed
        message = str(err.args[0]) if err.args else ""
        text = message.removeprefix("execution reverted").removeprefix(":").strip()
        # py-evm reports raw revert data as the repr of a bytes object, and an `Error(string)`
        # as its decoded text; both are turned back into revert data.
        if text.startswith(("b'", 'b"')):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = None
            if isinstance(value, bytes):
                return value, "execution reverted"
        if not text or text in ("Revert", "b''"):
            return None, "execution reverted"
        return encode_error_string(text), "execution reverted"
    if isinstance(err, Web3RPCError):
        response = err.rpc_response or {}
        error = response.get("error") if isinstance(response, Mapping) else None
        message = str(err.message)
        if "revert" in message.lower():
            data = error.get("data") if isinstance(error, Mapping) else None
            if isinstance(data, str) and data.startswith("0x"):
                try:
                    return bytes.fromhex(data[2:]), message
                except ValueError:
                    pass
            return None, message
    return None


def _chain_errors_only(method: F) -> F:
    """Make a public `Chain` method raise nothing but `ChainError`s.

    A node's answer can be anything (malformed JSON, a result of the wrong type, bad hex, a
    receipt without its fields), and web3, requests, eth-abi and our own parsing each fail on
    it in their own way; whatever is not already a `ChainError` becomes one here, chained.
    """

    @functools.wraps(method)
    def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ChainError:
            raise
        except Exception as err:
            raise ChainError(
                f"{method.__name__}: unexpected answer from the node ({type(err).__name__}: {err})"
            ) from err

    return translated  # type: ignore[return-value]  # the wrapper returns what `method` returns


def _send_raw(raw: bytes, w3: Web3) -> bytes:
    return bytes(w3.eth.send_raw_transaction(raw))


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


class Chain:
    """One EVM chain: the in-process EVM (`Chain.embedded()`) or JSON-RPC nodes with failover
    (`Chain.from_urls(...)`).

    Writes (`transact`, `deploy`) estimate gas first, so a revert is reported before anything is
    sent; they sign locally, manage the sender's nonce, wait for the receipt and check its
    status. Every failure is a `ChainError`: `TransactionReverted` (decoded reason),
    `ChainUnavailable` (no node reachable), `ChainTimeout` (no receipt in time), and a plain
    `ChainError` for an answer the node should not have given (malformed JSON, wrong types,
    missing fields): no web3, requests or eth-abi exception leaves a public method.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        receipt_timeout: float = 120.0,
        error_abis: Sequence[ABI] = (),
    ) -> None:
        self._backend = backend
        self._receipt_timeout = receipt_timeout
        self._chain_id: int | None = None
        self._chain_key: Hashable | None = None
        self._extra_codecs = [codec_for(abi) for abi in error_abis]

    # -- construction -------------------------------------------------------------------

    @classmethod
    def embedded(cls) -> Chain:
        """A fresh in-process chain (eth-tester, py-evm) with ten funded dev accounts."""
        return cls(TesterBackend(), receipt_timeout=10.0)

    @classmethod
    def from_urls(
        cls,
        urls: Sequence[str],
        *,
        timeout: float = 10.0,
        receipt_timeout: float = 120.0,
    ) -> Chain:
        """JSON-RPC over HTTP to `urls`, tried in order: when a node cannot be reached the next
        is used. `timeout` bounds each request; `receipt_timeout` bounds waiting for a mined
        transaction. Nothing is contacted until first use.

        Raises `ConfigurationError` on an empty list or a non-HTTP URL.
        """
        if isinstance(urls, str):
            urls = [urls]
        return cls(RpcBackend(list(urls), timeout), receipt_timeout=receipt_timeout)

    @property
    def kind(self) -> str:
        """`"embedded"` or `"rpc"`."""
        return self._backend.kind

    @property
    def url(self) -> str | None:
        """The node currently used, for JSON-RPC chains."""
        return self._backend.current_url if isinstance(self._backend, RpcBackend) else None

    # -- plumbing -----------------------------------------------------------------------

    def _run(self, op: Callable[[Web3], T], what: str) -> T:
        """Run `op` on the backend, translating every non-chain error into `ChainError`."""
        try:
            return self._backend.run(op)
        except ChainError:
            raise
        except Exception as err:
            # web3, eth-tester (its own exception family), eth-abi, requests: all become ours.
            raise ChainError(f"{what} failed: {err}") from err

    def _chain_identity(self) -> Hashable:
        if self._chain_key is None:
            self._chain_key = self._backend.identity()
        return self._chain_key

    def _codecs(self, abi: ABI | None) -> list[Codec]:
        from .artifacts import artifact_codecs

        codecs = [codec_for(abi)] if abi is not None else []
        return codecs + self._extra_codecs + artifact_codecs()

    # -- reads --------------------------------------------------------------------------

    @property
    @_chain_errors_only
    def chain_id(self) -> int:
        """The chain id (fetched once). Raises `ChainUnavailable` if no node answers."""
        if self._chain_id is None:
            self._chain_id = self._run(lambda w3: int(w3.eth.chain_id), "eth_chainId")
            if isinstance(self._backend, RpcBackend):
                self._backend.expected_chain_id = self._chain_id
        return self._chain_id

    @_chain_errors_only
    def block_number(self) -> int:
        """The latest block number."""
        return self._run(lambda w3: int(w3.eth.block_number), "eth_blockNumber")

    @_chain_errors_only
    def block(self, number: BlockId = "latest") -> Block:
        """A block by number or tag (`"latest"`, `"earliest"`...).

        Raises `ChainError` when there is no such block.
        """
        found = self.find_block(number)
        if found is None:
            raise ChainError(f"block {number} not found")
        return found

    @_chain_errors_only
    def find_block(self, number: BlockId = "latest") -> Block | None:
        """Like `block`, but `None` when the block does not exist (yet, or any more)."""

        def op(w3: Web3) -> Block | None:
            try:
                b = w3.eth.get_block(number)  # type: ignore[arg-type]  # web3 types this as its own TypedDict/BlockIdentifier; ours is one at run time
            except BlockNotFound:
                return None
            return Block(
                number=int(b["number"]),
                hash=bytes(b["hash"]),
                parent_hash=bytes(b["parentHash"]),
                timestamp=int(b["timestamp"]),
            )

        return self._run(op, f"eth_getBlockByNumber({number})")

    @_chain_errors_only
    def block_transactions(self, number: int) -> tuple[ChainTransaction, ...]:
        """The transactions of block `number`, in block order (successful and failed alike).

        Raises `ChainError` when there is no such block, `ChainUnavailable` when no node
        answers.
        """

        def parse(tx: Any) -> ChainTransaction:
            # JSON-RPC nodes use camelCase and name the calldata `input`, with `to` null for a
            # creation; eth-tester uses snake_case, names it `data`, and gives `to` as "".
            data = tx["input"] if "input" in tx else tx["data"]
            index = tx["transactionIndex"] if "transactionIndex" in tx else tx["transaction_index"]
            to = tx.get("to")
            return ChainTransaction(
                hash=_hex(tx["hash"]),
                block_number=int(number),
                index=int(index),
                sender=Web3.to_checksum_address(tx["from"]),
                to=Web3.to_checksum_address(to) if to else None,
                input=bytes(HexBytes(data)),
                nonce=int(tx["nonce"]),
            )

        def op(w3: Web3) -> tuple[ChainTransaction, ...] | None:
            try:
                b = w3.eth.get_block(number, full_transactions=True)
            except BlockNotFound:
                return None
            return tuple(parse(tx) for tx in b["transactions"])

        found = self._run(op, f"eth_getBlockByNumber({number}, full)")
        if found is None:
            raise ChainError(f"block {number} not found")
        return found

    @_chain_errors_only
    def balance(self, address: str) -> int:
        """The balance of `address` in wei."""
        return self._run(
            lambda w3: int(w3.eth.get_balance(Web3.to_checksum_address(address))),
            "eth_getBalance",
        )

    @_chain_errors_only
    def code(self, address: str) -> bytes:
        """The runtime code at `address` (empty when none)."""
        return self._run(
            lambda w3: bytes(w3.eth.get_code(Web3.to_checksum_address(address))), "eth_getCode"
        )

    @_chain_errors_only
    def nonce(self, address: str, block: BlockId = "pending") -> int:
        """The transaction count of `address` at `block` (default: including pending)."""
        return self._run(
            lambda w3: int(
                w3.eth.get_transaction_count(
                    Web3.to_checksum_address(address),
                    block,  # type: ignore[arg-type]  # web3 types this as its own TypedDict/BlockIdentifier; ours is one at run time
                )
            ),
            "eth_getTransactionCount",
        )

    @_chain_errors_only
    def call(
        self,
        address: str,
        abi: ABI,
        fn_name: str,
        args: Sequence[Any] = (),
        block: BlockId = "latest",
        *,
        sender: str | None = None,
    ) -> Any:
        """Call a view function; one output is returned as is, several as a tuple.

        Raises `TransactionReverted` (with `tx_hash=None`) when the call reverts,
        `ConfigurationError` when `fn_name` is not in `abi` or the arguments do not encode.
        """
        codec = codec_for(abi)
        spec = codec.function(fn_name)
        tx: dict[str, Any] = {"to": Web3.to_checksum_address(address), "data": spec.encode(args)}
        if sender is not None:
            tx["from"] = Web3.to_checksum_address(sender)
        raw = self._eth_call(tx, block, abi)
        return spec.decode_output(raw)

    def _eth_call(self, tx: Mapping[str, Any], block: BlockId, abi: ABI | None) -> bytes:
        def op(w3: Web3) -> bytes:
            return bytes(w3.eth.call(dict(tx), block))  # type: ignore[arg-type]  # web3 types this as its own TypedDict/BlockIdentifier; ours is one at run time

        try:
            return self._backend.run(op)
        except ChainError:
            raise
        except Exception as err:
            payload = _revert_payload(err)
            if payload is None:
                raise ChainError(f"eth_call failed: {err}") from err
            raise self._reverted(payload, abi, None) from err

    def _reverted(
        self, payload: tuple[bytes | None, str], abi: ABI | None, tx_hash: str | None
    ) -> TransactionReverted:
        data, message = payload
        decoded: DecodedRevert = decode_revert(data, message, self._codecs(abi))
        return TransactionReverted(
            decoded.reason, decoded.error_name, decoded.args, tx_hash=tx_hash, data=data
        )

    @_chain_errors_only
    def get_logs(
        self,
        *,
        address: str | Sequence[str] | None,
        from_block: int,
        to_block: int,
        topics: Sequence[Any] | None = None,
    ) -> list[RawLog]:
        """Logs in `[from_block, to_block]`, in chain order."""
        params: dict[str, Any] = {"fromBlock": from_block, "toBlock": to_block}
        if address is not None:
            params["address"] = (
                Web3.to_checksum_address(address)
                if isinstance(address, str)
                else [Web3.to_checksum_address(a) for a in address]
            )
        if topics is not None:
            params["topics"] = list(topics)

        def op(w3: Web3) -> list[RawLog]:
            return [
                RawLog(
                    address=Web3.to_checksum_address(entry["address"]),
                    topics=tuple(bytes(t) for t in entry["topics"]),
                    data=bytes(entry["data"]),
                    block_number=int(entry["blockNumber"]),
                    block_hash=bytes(entry["blockHash"]),
                    tx_hash=_hex(entry["transactionHash"]),
                    log_index=int(entry["logIndex"]),
                )
                for entry in w3.eth.get_logs(params)  # type: ignore[arg-type]  # web3 types this as its own TypedDict/BlockIdentifier; ours is one at run time
            ]

        logs = self._run(op, "eth_getLogs")
        logs.sort(key=lambda entry: (entry.block_number, entry.log_index))
        return logs

    @staticmethod
    def decode_log(abi: ABI, entry: RawLog) -> DecodedEvent | RawLog:
        """Decode `entry` against `abi`; the raw log comes back when it does not match."""
        decoded = codec_for(abi).decode_event(entry.topics, entry.data)
        if decoded is None:
            return entry
        name, args = decoded
        return DecodedEvent(
            name=name,
            args=args,
            address=entry.address,
            block_number=entry.block_number,
            block_hash=entry.block_hash,
            tx_hash=entry.tx_hash,
            log_index=entry.log_index,
        )

    def _decode_any(self, abi: ABI | None, entry: RawLog) -> DecodedEvent | RawLog:
        """Decode against `abi`, then against the shipped registries (events emitted by a
        contract the transaction called into)."""
        for codec in self._codecs(abi):
            decoded = codec.decode_event(entry.topics, entry.data)
            if decoded is not None:
                name, args = decoded
                return DecodedEvent(
                    name=name,
                    args=args,
                    address=entry.address,
                    block_number=entry.block_number,
                    block_hash=entry.block_hash,
                    tx_hash=entry.tx_hash,
                    log_index=entry.log_index,
                )
        return entry

    # -- writes -------------------------------------------------------------------------

    @_chain_errors_only
    def transact(
        self,
        signer: Signer,
        address: str,
        abi: ABI,
        fn_name: str,
        args: Sequence[Any] = (),
        *,
        gas: int | None = None,
        value: int = 0,
    ) -> TxReceipt:
        """Send `fn_name(*args)` to `address` from `signer`, wait for it to be mined, check it.

        Returns the receipt with logs decoded against `abi`. Raises `TransactionReverted` when
        the call reverts (at estimation: `tx_hash` is `None`; on chain: the mined hash),
        `ChainTimeout` when no receipt arrives in time, `ChainUnavailable` when no node is
        reachable (the transaction may or may not have been sent), `ConfigurationError` on
        arguments that do not match the ABI.
        """
        spec = codec_for(abi).function(fn_name)
        to = Web3.to_checksum_address(address)
        return self._send(signer, to=to, data=spec.encode(args), abi=abi, gas=gas, value=value)

    @_chain_errors_only
    def deploy(
        self,
        signer: Signer,
        abi: ABI,
        bytecode: str | bytes,
        args: Sequence[Any] = (),
        *,
        gas: int | None = None,
    ) -> TxReceipt:
        """Deploy a contract; the receipt's `contract_address` is its address.

        Raises as `transact` does.
        """
        code = (
            bytes.fromhex(bytecode.removeprefix("0x"))
            if isinstance(bytecode, str)
            else bytes(bytecode)
        )
        if not code:
            raise ConfigurationError("empty bytecode (abstract contract or missing artifact?)")
        data = code + codec_for(abi).encode_constructor(args)
        receipt = self._send(signer, to=None, data=data, abi=abi, gas=gas, value=0)
        if not receipt.contract_address:
            raise ChainError(f"deployment {receipt.tx_hash} created no contract")
        return receipt

    @_chain_errors_only
    def send_value(self, signer: Signer, to: str, wei: int) -> TxReceipt:
        """Transfer `wei` from `signer` to `to`."""
        return self._send(
            signer, to=Web3.to_checksum_address(to), data=b"", abi=None, gas=None, value=wei
        )

    def _estimate(
        self, sender: str, to: str | None, data: bytes, value: int, abi: ABI | None
    ) -> int:
        tx: dict[str, Any] = {"from": sender, "data": data, "value": value}
        if to is not None:
            tx["to"] = to
        if self._backend.kind == "embedded":
            # py-evm estimates by binary search (a dozen executions per transaction); one
            # eth_call finds reverts just as well, and gas costs nothing on the test chain.
            self._eth_call(tx, "latest", abi)
            return _EMBEDDED_GAS_LIMIT

        def op(w3: Web3) -> int:
            return int(w3.eth.estimate_gas(tx))  # type: ignore[arg-type]  # web3 types this as its own TypedDict/BlockIdentifier; ours is one at run time

        try:
            estimate = self._backend.run(op)
        except ChainError:
            raise
        except Exception as err:
            payload = _revert_payload(err)
            if payload is None:
                raise ChainError(f"gas estimation failed: {err}") from err
            raise self._reverted(payload, abi, None) from err
        margin = max(estimate * _GAS_MARGIN_NUM // _GAS_MARGIN_DEN - estimate, _GAS_MARGIN_MIN)
        return estimate + margin

    def _fee_fields(self) -> dict[str, int]:
        """Legacy `gasPrice` 0 on zero-gas networks (permissioned Besu), EIP-1559 fees when the
        node reports a base fee, a legacy gas price otherwise."""

        def op(w3: Web3) -> dict[str, int]:
            gas_price = int(w3.eth.gas_price)
            if gas_price == 0:
                return {"gasPrice": 0}
            latest = w3.eth.get_block("latest")
            base_fee = latest.get("baseFeePerGas")
            if base_fee is None:
                return {"gasPrice": gas_price}
            try:
                priority = int(w3.eth.max_priority_fee)
            except (Web3Exception, ValueError):
                priority = _DEFAULT_PRIORITY_FEE
            return {
                "maxFeePerGas": 2 * int(base_fee) + priority,
                "maxPriorityFeePerGas": priority,
                "type": 2,
            }

        return self._run(op, "fee lookup")

    def _send(
        self,
        signer: Signer,
        *,
        to: str | None,
        data: bytes,
        abi: ABI | None,
        gas: int | None,
        value: int,
    ) -> TxReceipt:
        tx_hash: str | None = None
        try:
            chain_id = self.chain_id
            slot = _NONCES.slot(self._chain_identity(), signer.address)
            if gas is None:
                gas = self._estimate(signer.address, to, data, value, abi)
            fees = self._fee_fields()
            with slot.lock:
                tx_hash, nonce = self._sign_and_send(
                    slot, signer, chain_id, to, data, value, gas, fees
                )
            return self._wait(
                tx_hash,
                nonce=nonce,
                to=to,
                sender=signer.address,
                data=data,
                value=value,
                gas=gas,
                abi=abi,
            )
        except ChainUnavailable as err:
            # The node may come back from older state (a restart): trust no tracked nonce.
            if self._chain_key is not None:
                _NONCES.forget_chain(self._chain_key)
            err.tx_hash = err.tx_hash or tx_hash
            raise

    def _sign_and_send(
        self,
        slot: _NonceSlot,
        signer: Signer,
        chain_id: int,
        to: str | None,
        data: bytes,
        value: int,
        gas: int,
        fees: Mapping[str, int],
    ) -> tuple[str, int]:
        """Called with the sender's nonce lock held; returns the hash and nonce used."""
        for attempt in range(3):
            if slot.next is None:
                slot.next = self.nonce(signer.address, "pending")
            tx: dict[str, Any] = {
                "chainId": chain_id,
                "nonce": slot.next,
                "gas": gas,
                "value": value,
                "data": data,
                **fees,
            }
            if to is not None:
                tx["to"] = to
            raw, tx_hash = signer.sign_transaction(tx)
            try:
                self._backend.run(functools.partial(_send_raw, raw))
            except ChainUnavailable as err:
                # Unknown whether the node got it: read the nonce afresh next time.
                slot.next = None
                err.tx_hash = tx_hash
                raise
            except Exception as err:
                message = str(getattr(err, "message", None) or err)
                if _is_already_known(message):
                    slot.next += 1
                    return tx_hash, slot.next - 1
                if _is_nonce_conflict(message) and attempt < 2:
                    log.info("nonce %s of %s taken; resyncing", slot.next, signer.address)
                    slot.next = None
                    continue
                slot.next = None
                payload = _revert_payload(err)
                if payload is not None:
                    raise self._reverted(payload, None, None) from err
                raise ChainError(f"sending transaction failed: {message}") from err
            slot.next += 1
            return tx_hash, slot.next - 1
        raise ChainError("sending transaction failed: nonce kept conflicting")

    def _wait(
        self,
        tx_hash: str,
        *,
        nonce: int,
        to: str | None,
        sender: str,
        data: bytes,
        value: int,
        gas: int,
        abi: ABI | None,
    ) -> TxReceipt:
        started = time.monotonic()
        deadline = started + self._receipt_timeout
        next_gap_check = started + _GAP_CHECK_AFTER
        gap_seen = 0
        delay = 0.02
        while True:
            receipt = self._receipt_or_none(tx_hash)
            if receipt is not None:
                break
            now = time.monotonic()
            if now >= next_gap_check:
                # A node that lost state (restarted from an older dump) leaves our tracked nonce
                # ahead of its own: the transaction waits behind a gap and is never mined. Its
                # next executable nonce tells; ask a few times to ride out propagation delays.
                next_gap_check = now + 1.0
                pending = self.nonce(sender, "pending")
                gap_seen = gap_seen + 1 if pending <= nonce else 0
                if gap_seen >= _GAP_CHECKS:
                    self._forget_sender(sender)
                    raise ChainTimeout(
                        f"transaction {tx_hash} cannot be mined: it uses nonce {nonce} but the "
                        f"node's next nonce for {sender} is {pending} (node lost state?); "
                        "nonces resynced, send again",
                        tx_hash=tx_hash,
                    )
            if now >= deadline:
                # A transaction that never gets mined may leave a nonce gap: resync next time.
                self._forget_sender(sender)
                raise ChainTimeout(
                    f"transaction {tx_hash} not mined within {self._receipt_timeout:.0f} s",
                    tx_hash=tx_hash,
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        if int(receipt["status"]) != 1:
            raise self._explain_failure(tx_hash, receipt, to, sender, data, value, gas, abi)
        return self._to_receipt(tx_hash, receipt, abi)

    def _to_receipt(self, tx_hash: str, receipt: Mapping[str, Any], abi: ABI | None) -> TxReceipt:
        status = int(receipt["status"])
        block_number = int(receipt["blockNumber"])
        logs: list[DecodedEvent | RawLog] = []
        for entry in receipt["logs"]:
            raw_log = RawLog(
                address=Web3.to_checksum_address(entry["address"]),
                topics=tuple(bytes(t) for t in entry["topics"]),
                data=bytes(entry["data"]),
                block_number=block_number,
                block_hash=bytes(entry["blockHash"]),
                tx_hash=tx_hash,
                log_index=int(entry["logIndex"]),
            )
            logs.append(self._decode_any(abi, raw_log))
        contract = receipt.get("contractAddress")
        return TxReceipt(
            tx_hash=tx_hash,
            block_number=block_number,
            block_hash=bytes(receipt["blockHash"]),
            gas_used=int(receipt["gasUsed"]),
            status=status,
            contract_address=Web3.to_checksum_address(contract) if contract else None,
            effective_gas_price=int(receipt.get("effectiveGasPrice") or 0),
            tx_type=int(receipt.get("type") or 0),
            logs=tuple(logs),
        )

    @_chain_errors_only
    def find_receipt(self, tx_hash: str, abi: ABI | None = None) -> TxReceipt | None:
        """The receipt of a mined transaction (logs decoded against `abi` and the shipped
        registries), `None` when it is not mined (or unknown). Raises `TransactionReverted`
        when it failed (without the decoded reason: use `transact` to get that)."""
        receipt = self._receipt_or_none(tx_hash)
        if receipt is None:
            return None
        if int(receipt["status"]) != 1:
            raise TransactionReverted("reverted on chain", tx_hash=tx_hash)
        return self._to_receipt(tx_hash, receipt, abi)

    @_chain_errors_only
    def settle(
        self,
        send: Callable[[], TxReceipt],
        *,
        landed: Callable[[], bool] | None,
        confirmations: int,
        timeout: float,
        resends: int = 3,
    ) -> TxReceipt:
        """Send a transaction with `send` (a `transact` call) and keep it until it is
        `confirmations` blocks deep: wait while a halted node holds it, and send it again (at
        most `resends` times) when a reorg removed it or the node dropped it from its pool, but
        only while `landed()` (a read of the contract's state) says its effect is not on chain,
        so nothing is applied twice. `landed=None`: never send again.

        Returns the receipt at the depth. Raises `ChainRollback` when the transaction left the
        chain and cannot be sent again (`landed` is `None`, or says the effect is on chain by a
        transaction this call did not see, or `resends` are used up), `ChainTimeout` when it
        is not mined or not deep enough within `timeout` seconds, and whatever `send` raises.
        """
        left_at = 0
        for attempt in range(resends + 1):
            if attempt:
                if landed is None or landed():
                    break
                self.forget_nonces()
                log.warning("transaction left the chain or the pool: sending it again")
            try:
                receipt: TxReceipt | None = send()
                left_at = receipt.block_number if receipt is not None else left_at
            except ChainTimeout as err:
                if err.tx_hash is None:
                    raise
                receipt = self.await_receipt(err.tx_hash, timeout=timeout)
            if receipt is not None:
                receipt = self.await_depth(receipt, confirmations, timeout=timeout)
            if receipt is not None:
                return receipt
        raise ChainRollback(
            left_at, f"a transaction of block {left_at} left the chain and is not sent again"
        )

    @_chain_errors_only
    def await_receipt(
        self, tx_hash: str, *, timeout: float, poll_interval: float = 0.25
    ) -> TxReceipt | None:
        """Wait for a sent transaction to be mined (after `transact` gave up with
        `ChainTimeout`). Returns its checked receipt, or `None` as soon as the node no longer
        knows it (dropped from the pool: the caller decides whether to send again). Raises
        `ChainTimeout` when it is still pending after `timeout` seconds (a halted chain),
        `TransactionReverted` when it was mined and failed, `ChainUnavailable` when no node
        answers.
        """
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.find_receipt(tx_hash)
            if receipt is not None:
                return receipt
            if self._transaction_or_none(tx_hash) is None:
                return None
            if time.monotonic() > deadline:
                raise ChainTimeout(f"{tx_hash} still pending after {timeout} s", tx_hash=tx_hash)
            time.sleep(poll_interval)

    def _transaction_or_none(self, tx_hash: str) -> Mapping[str, Any] | None:
        def op(w3: Web3) -> Mapping[str, Any] | None:
            try:
                return w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]  # web3 types this as its own TypedDict/BlockIdentifier; ours is one at run time
            except TransactionNotFound:
                return None

        return self._run(op, "eth_getTransactionByHash")

    @_chain_errors_only
    def await_depth(
        self,
        receipt: TxReceipt,
        confirmations: int,
        *,
        timeout: float,
        poll_interval: float = 0.25,
    ) -> TxReceipt | None:
        """Wait until `receipt`'s transaction lies `confirmations` blocks under the head of the
        canonical chain (0: at once, as mined).

        Returns the receipt as the chain holds it then (a reorg may have moved the transaction
        to another block), or `None` when the transaction left the chain: its block was
        replaced and no block carries it again (a reorg dropped it; the caller decides whether
        to send again). Raises `ChainTimeout` when the depth is not reached within `timeout`
        seconds (a halted chain), `ChainUnavailable` when no node answers.
        """
        if confirmations < 0:
            raise ConfigurationError("confirmations must be >= 0")
        if confirmations == 0:
            return receipt
        deadline = time.monotonic() + timeout
        current = receipt
        while True:
            block = self.find_block(current.block_number)
            if block is None or block.hash != current.block_hash:
                again = self.find_receipt(current.tx_hash)
                if again is None:
                    return None
                current = again
            elif self.block_number() - current.block_number >= confirmations:
                return current
            if time.monotonic() > deadline:
                raise ChainTimeout(
                    f"{current.tx_hash} not {confirmations} blocks deep within {timeout} s",
                    tx_hash=current.tx_hash,
                )
            time.sleep(poll_interval)

    def _forget_sender(self, sender: str) -> None:
        slot = _NONCES.slot(self._chain_identity(), sender)
        with slot.lock:
            slot.next = None

    def _receipt_or_none(self, tx_hash: str) -> Mapping[str, Any] | None:
        def op(w3: Web3) -> Mapping[str, Any] | None:
            try:
                return w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]  # web3 types this as its own TypedDict/BlockIdentifier; ours is one at run time
            except TransactionNotFound:
                return None

        return self._run(op, "eth_getTransactionReceipt")

    def _explain_failure(
        self,
        tx_hash: str,
        receipt: Mapping[str, Any],
        to: str | None,
        sender: str,
        data: bytes,
        value: int,
        gas: int,
        abi: ABI | None,
    ) -> TransactionReverted:
        """Replay a failed transaction with `eth_call` at its block to recover the revert data."""
        call: dict[str, Any] = {"from": sender, "data": data, "value": value, "gas": gas}
        if to is not None:
            call["to"] = to
        try:
            self._eth_call(call, int(receipt["blockNumber"]), abi)
        except TransactionReverted as reverted:
            reverted.tx_hash = tx_hash
            return reverted
        except ChainError as err:
            return TransactionReverted(f"reverted on chain; replay failed: {err}", tx_hash=tx_hash)
        if int(receipt["gasUsed"]) >= gas:
            return TransactionReverted("out of gas", tx_hash=tx_hash)
        return TransactionReverted(
            "reverted on chain (the replay did not reproduce the revert)", tx_hash=tx_hash
        )

    # -- dev and test controls ----------------------------------------------------------

    @_chain_errors_only
    def dev_signers(self, count: int = 10) -> list[Signer]:
        """Funded development accounts: the node's or eth-tester's own, and fresh accounts
        funded from them beyond that. Development chains only; raises `ConfigurationError`
        when the node exposes no known development account."""
        keys = self._backend.dev_keys()
        signers = [Signer.from_key(k) for k in keys[:count]]
        while len(signers) < count:
            extra = Signer.generate()
            self.fund(extra.address, 10**21)
            signers.append(extra)
        return signers

    @_chain_errors_only
    def fund(self, address: str, wei: int) -> TxReceipt:
        """Send `wei` to `address` from the first development account (dev chains only)."""
        funder = Signer.from_key(self._backend.dev_keys()[0])
        return self.send_value(funder, address, wei)

    @_chain_errors_only
    def fund_if_empty(self, address: str, wei: int) -> bool:
        """On a development chain, send `wei` to `address` when its balance is zero; returns
        whether the chain has a development account at all. On a chain without one (a zero-gas
        permissioned network) nothing is sent and False is returned. A failed transfer raises:
        it is never mistaken for a chain without development accounts, nor is a node that does
        not answer (`ChainUnavailable`)."""
        try:
            funder = Signer.from_key(self._backend.dev_keys()[0])
        except ChainUnavailable:
            raise
        except (ChainError, IndexError):
            return False
        if self.balance(address) == 0:
            self.send_value(funder, address, wei)
        return True

    @_chain_errors_only
    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Make the next mined block carry `timestamp` (unix seconds, after the latest block)."""
        try:
            self._backend.set_next_block_timestamp(int(timestamp))
        except ChainError:
            raise
        except Exception as err:
            raise ChainError(f"cannot set the next block timestamp: {err}") from err

    @_chain_errors_only
    def mine(self, blocks: int = 1) -> None:
        """Mine `blocks` empty blocks."""
        try:
            self._backend.mine(blocks)
        except ChainError:
            raise
        except Exception as err:
            raise ChainError(f"cannot mine: {err}") from err

    @_chain_errors_only
    def snapshot(self) -> str:
        """Snapshot the chain state (dev chains); `revert(id)` returns to it once."""
        return self._backend.snapshot()

    @_chain_errors_only
    def revert(self, snapshot_id: str) -> None:
        """Return to a snapshot. Locally tracked nonces of this chain are forgotten."""
        self._backend.revert(snapshot_id)
        _NONCES.forget_chain(self._chain_identity())

    @_chain_errors_only
    def forget_nonces(self) -> None:
        """Forget locally tracked nonces (after the node lost state, e.g. restarted)."""
        _NONCES.forget_chain(self._chain_identity())

    def __repr__(self) -> str:
        where = self.url if self.url else "in-process"
        return f"Chain({self.kind}, {where})"
