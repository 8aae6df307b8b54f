"""RFC 6962 Merkle trees: batch roots and inclusion proofs for anchored documents.

Leaves and inner nodes are domain-separated as in RFC 6962 §2.1 (and RFC 9162 §2.1.1)::

    leaf hash = H(0x00 || leaf data)
    node hash = H(0x01 || left || right)

``H`` is the tree's `HashAlgorithm`: SHA-256 (FIPS 180-4) or SM3 (GB/T 32905-2016), both
with 32-byte digests. One algorithm serves throughout a tree: the document digests that are
its leaf data, the leaf hashes and the inner nodes. In hrss-trust the leaf data is the document
digest, so a document's leaf hash is ``H(0x00 || H(document))``. `MerkleTree.build` enforces
that length; `leaf_hash` and `MerkleTree.from_leaf_hashes` accept any leaf data, which is what
the RFC 6962 / Certificate Transparency test vectors use.

SM3 comes from OpenSSL through `hashlib` when the linked OpenSSL provides it (1.1.1 and later
usually do), else from `cryptography`, whose wheels always carry it; both give the same digests
(the GB/T 32905 vectors are in the tests, through both).

A tree of ``n`` leaves has the RFC 6962 shape: split at the largest power of two smaller than
``n``. Pairing nodes level by level and carrying an unpaired last node up unchanged gives the
same tree, and is what `MerkleTree` does, because it needs only flat lists and ``hashlib``.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from wallet_sdk.errors import FormatError, UnsupportedAlgorithmError, VerificationError

__all__ = [
    "HashAlgorithm",
    "Hasher",
    "InclusionProof",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "verify_inclusion",
]

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
# 2**64 leaves is far beyond any batch; the bound keeps a hostile proof from looping long.
_MAX_PATH_LENGTH = 64


class Hasher(Protocol):
    """A running hash: feed it with `update`, read it with `digest` (as often as wanted)."""

    def update(self, data: bytes, /) -> None:
        """Add `data` to the hashed input."""
        ...

    def digest(self) -> bytes:
        """Digest of everything added so far; the hasher can still be updated afterwards."""
        ...


_SM3_ABC = bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")


class _CryptographySM3:
    """SM3 through `cryptography` (its bundled OpenSSL), with `hashlib`'s interface."""

    __slots__ = ("_context",)

    def __init__(self, data: bytes = b"") -> None:
        self._context = hashes.Hash(hashes.SM3())
        if data:
            self._context.update(data)

    def update(self, data: bytes, /) -> None:
        self._context.update(data)

    def digest(self) -> bytes:
        # finalize() ends a context; finalising a copy keeps this one open, as hashlib does.
        return self._context.copy().finalize()


def _sm3_backend(algorithms_available: Set[str]) -> Callable[[bytes], Hasher] | None:
    """The SM3 constructor to use: OpenSSL's through `hashlib` when `algorithms_available`
    names it and it gives the GB/T 32905 digest of "abc", else `cryptography`'s; ``None``
    when neither works (a FIPS-only OpenSSL, say)."""
    if "sm3" in algorithms_available:
        try:
            empty = hashlib.new("sm3")
        except ValueError:
            pass
        else:
            probe = empty.copy()
            probe.update(b"abc")
            if probe.digest() == _SM3_ABC:

                def openssl_sm3(data: bytes = b"") -> Hasher:
                    # Copying a ready context skips OpenSSL 3's algorithm fetch, which
                    # costs more than hashing 65 bytes: ``hashlib.new`` is twice as slow.
                    hasher = empty.copy()
                    hasher.update(data)
                    return hasher

                return openssl_sm3
    try:
        if _CryptographySM3(b"abc").digest() == _SM3_ABC:
            return _CryptographySM3
    except UnsupportedAlgorithm:
        pass
    return None


_SM3 = _sm3_backend(hashlib.algorithms_available)


class HashAlgorithm(enum.Enum):
    """Hash function of a Merkle tree and of the documents in it; the value is the name
    written into receipts and accepted by the service."""

    SHA256 = "sha-256"
    """SHA-256 (FIPS 180-4)."""
    SM3 = "sm3"
    """SM3 (GB/T 32905-2016), the hash of China's commercial cryptography standards (国密)."""

    @property
    def digest_size(self) -> int:
        """Length in bytes of this algorithm's digests (32 for both)."""
        return 32

    @classmethod
    def from_name(cls, name: str) -> HashAlgorithm:
        """Look an algorithm up by its receipt name.

        Raises `UnsupportedAlgorithmError` for an unknown name.
        """
        try:
            return cls(name)
        except ValueError as err:
            raise UnsupportedAlgorithmError(f"unknown hash algorithm {name!r}") from err

    @property
    def label(self) -> str:
        """The name a reader knows it by: ``SHA-256`` or ``SM3``."""
        return "SHA-256" if self is HashAlgorithm.SHA256 else "SM3"

    def mac(self, key: bytes, data: bytes) -> bytes:
        """HMAC (RFC 2104) of `data` under `key` with this hash: HMAC-SHA256, or HMAC-SM3
        (GB/T 15852.2's construction with SM3), for salted commitments to low-entropy values.

        Raises `UnsupportedAlgorithmError` when no backend provides the algorithm.
        """
        if self is HashAlgorithm.SHA256:
            return hmac.digest(key, data, "sha256")
        try:
            context = crypto_hmac.HMAC(key, hashes.SM3())
        except UnsupportedAlgorithm as err:
            raise UnsupportedAlgorithmError("HMAC-SM3 is not available") from err
        context.update(data)
        return context.finalize()

    def new(self) -> Hasher:
        """A running hash of this algorithm, for data that arrives in pieces.

        Raises `UnsupportedAlgorithmError` when no backend provides the algorithm.
        """
        return self._hasher()(b"")

    def digest(self, data: bytes) -> bytes:
        """Digest of `data`: what a document digest is for a document held in memory.

        Raises `UnsupportedAlgorithmError` when no backend provides the algorithm.
        """
        return self._hasher()(data).digest()

    def digest_file(self, path: Path, on_chunk: Callable[[int], object] | None = None) -> bytes:
        """Digest of a file, read in 1 MiB pieces (a large document never sits in memory);
        `on_chunk` is told the size of each piece (a progress bar).

        Raises `OSError` when the file cannot be read, `UnsupportedAlgorithmError` when no
        backend provides the algorithm.
        """
        hasher = self.new()
        with Path(path).open("rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
                if on_chunk is not None:
                    on_chunk(len(chunk))
        return hasher.digest()

    def _hasher(self) -> Callable[[bytes], Hasher]:
        if self is HashAlgorithm.SHA256:
            return hashlib.sha256
        if _SM3 is None:
            raise UnsupportedAlgorithmError(
                "SM3 is not available: neither hashlib's OpenSSL nor cryptography provides it"
            )
        return _SM3


def leaf_hash(data: bytes, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> bytes:
    """Return ``H(0x00 || data)``.

    Raises `UnsupportedAlgorithmError` for an algorithm that is not implemented.
    """
    return algorithm._hasher()(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> bytes:
    """Return ``H(0x01 || left || right)``.

    Raises `UnsupportedAlgorithmError` for an algorithm that is not implemented.
    """
    return algorithm._hasher()(_NODE_PREFIX + left + right).digest()


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Audit path of one leaf (RFC 6962 §2.1.1): sibling hashes from the leaf up to the root.

    Raises `FormatError` when built with an index outside the tree or a malformed path.
    """

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if type(self.tree_size) is not int or self.tree_size < 1:
            raise FormatError("tree_size must be a positive integer")
        if type(self.leaf_index) is not int or not 0 <= self.leaf_index < self.tree_size:
            raise FormatError("leaf_index must be an integer in [0, tree_size)")
        if not isinstance(self.path, tuple) or len(self.path) > _MAX_PATH_LENGTH:
            raise FormatError(f"path must be a tuple of at most {_MAX_PATH_LENGTH} hashes")
        if any(not isinstance(node, bytes) for node in self.path):
            raise FormatError("path elements must be bytes")


def _unchecked_proof(leaf_index: int, tree_size: int, path: tuple[bytes, ...]) -> InclusionProof:
    # The tree builds hundreds of thousands of proofs whose fields are correct by construction;
    # skipping __post_init__ halves the cost of MerkleTree.proofs().
    proof = object.__new__(InclusionProof)
    object.__setattr__(proof, "leaf_index", leaf_index)
    object.__setattr__(proof, "tree_size", tree_size)
    object.__setattr__(proof, "path", path)
    return proof


class MerkleTree:
    """An immutable RFC 6962 Merkle tree over a batch of leaves.

    Build it with `MerkleTree.build` (document digests) or `MerkleTree.from_leaf_hashes`.
    """

    __slots__ = ("_algorithm", "_levels")

    def __init__(self, levels: list[list[bytes]], algorithm: HashAlgorithm) -> None:
        """Internal: use `build` or `from_leaf_hashes`."""
        self._levels = levels
        self._algorithm = algorithm

    @classmethod
    def build(
        cls,
        leaf_digests: Sequence[bytes],
        algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    ) -> MerkleTree:
        """Build the tree whose leaves are the given document digests, in order.

        Each leaf hash is ``H(0x00 || digest)``. Raises `FormatError` when the batch is empty
        or a digest is not bytes of the algorithm's digest size, and
        `UnsupportedAlgorithmError` for an algorithm that is not implemented.
        """
        hasher = algorithm._hasher()
        size = algorithm.digest_size
        if not leaf_digests:
            raise FormatError("a Merkle tree needs at least one leaf")
        for position, digest in enumerate(leaf_digests):
            if not isinstance(digest, bytes) or len(digest) != size:
                raise FormatError(f"leaf {position} is not a {size}-byte digest")
        leaves = [hasher(_LEAF_PREFIX + digest).digest() for digest in leaf_digests]
        return cls._from_leaves(leaves, algorithm)

    @classmethod
    def from_leaf_hashes(
        cls,
        leaf_hashes: Sequence[bytes],
        algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    ) -> MerkleTree:
        """Build a tree from leaf hashes already computed with `leaf_hash`.

        Raises `FormatError` when the batch is empty or a hash has the wrong length.
        """
        algorithm._hasher()
        if not leaf_hashes:
            raise FormatError("a Merkle tree needs at least one leaf")
        size = algorithm.digest_size
        for position, value in enumerate(leaf_hashes):
            if not isinstance(value, bytes) or len(value) != size:
                raise FormatError(f"leaf hash {position} is not {size} bytes")
        return cls._from_leaves(list(leaf_hashes), algorithm)

    @classmethod
    def _from_leaves(cls, leaves: list[bytes], algorithm: HashAlgorithm) -> MerkleTree:
        hasher = algorithm._hasher()
        levels = [leaves]
        level = leaves
        while len(level) > 1:
            paired = len(level) & ~1
            parents = [
                hasher(_NODE_PREFIX + left + right).digest()
                for left, right in zip(level[0:paired:2], level[1:paired:2], strict=True)
            ]
            if paired != len(level):
                # RFC 6962 shape: an unpaired last node is carried up unchanged.
                parents.append(level[-1])
            levels.append(parents)
            level = parents
        return cls(levels, algorithm)

    @property
    def algorithm(self) -> HashAlgorithm:
        """Hash algorithm of the tree."""
        return self._algorithm

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        """Merkle tree hash (RFC 6962 MTH) of all leaves."""
        return self._levels[-1][0]

    def leaf_hash(self, index: int) -> bytes:
        """Leaf hash at `index`. Raises `FormatError` for an index outside the tree."""
        self._check_index(index)
        return self._levels[0][index]

    def proof(self, index: int) -> InclusionProof:
        """Inclusion proof of the leaf at `index`.

        Raises `FormatError` for an index outside the tree.
        """
        self._check_index(index)
        path: list[bytes] = []
        position = index
        for level in self._levels[:-1]:
            sibling = position ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            position >>= 1
        return _unchecked_proof(index, self.size, tuple(path))

    def proofs(self) -> list[InclusionProof]:
        """Inclusion proofs of every leaf, in leaf order; equal to ``[proof(i) for i ...]``.

        Built column by column (one sibling column per level, expanded with C-level
        iterators) rather than leaf by leaf, which is several times faster for large batches.
        """
        n = self.size
        columns: list[list[bytes | None]] = []
        first_gap = n
        for depth, level in enumerate(self._levels[:-1]):
            width = len(level)
            siblings: list[bytes | None] = [None] * width
            siblings[0 : width & ~1 : 2] = level[1 : width & ~1 : 2]
            siblings[1 : width & ~1 : 2] = level[0 : width & ~1 : 2]
            if width & 1:
                first_gap = min(first_gap, (width - 1) << depth)
            span = 1 << depth
            column = list(chain.from_iterable(repeat(s, span) for s in siblings))
            del column[n:]
            columns.append(column)
        if not columns:
            return [_unchecked_proof(0, 1, ())]
        rows = list(zip(*columns, strict=True))
        result: list[InclusionProof] = []
        append = result.append
        for index in range(first_gap):
            append(_unchecked_proof(index, n, rows[index]))  # type: ignore[arg-type, unused-ignore]  # rows of zip are tuples of the column types
        for index in range(first_gap, n):
            path = tuple(node for node in rows[index] if node is not None)
            append(_unchecked_proof(index, n, path))
        return result

    def _check_index(self, index: int) -> None:
        if type(index) is not int or not 0 <= index < self.size:
            raise FormatError(f"leaf index {index!r} is outside a tree of {self.size} leaves")


def _root_from_path(
    leaf: bytes, proof: InclusionProof, hasher: Callable[[bytes], Hasher]
) -> bytes | None:
    # RFC 9162 §2.1.3.2: walk up from the leaf; None when the path has the wrong length.
    fn = proof.leaf_index
    sn = proof.tree_size - 1
    result = leaf
    for sibling in proof.path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            result = hasher(_NODE_PREFIX + sibling + result).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            result = hasher(_NODE_PREFIX + result + sibling).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return result


def verify_inclusion(
    leaf_hash: bytes,
    proof: InclusionProof,
    root: bytes,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
) -> None:
    """Check that `proof` leads from `leaf_hash` to `root` (RFC 9162 §2.1.3.2).

    Returns ``None`` on success. Raises `VerificationError` with check ``"merkle_path"`` when
    the path is too short or too long for the tree size, when a hash has the wrong length,
    or when the recomputed root differs; `UnsupportedAlgorithmError` for an algorithm that
    is not implemented.
    """
    hasher = algorithm._hasher()
    size = algorithm.digest_size
    if len(leaf_hash) != size or len(root) != size:
        raise VerificationError("merkle_path", f"leaf hash and root must be {size} bytes")
    if any(len(node) != size for node in proof.path):
        raise VerificationError("merkle_path", f"every path element must be {size} bytes")
    computed = _root_from_path(leaf_hash, proof, hasher)
    if computed is None:
        raise VerificationError(
            "merkle_path",
            f"path of {len(proof.path)} hashes does not fit leaf {proof.leaf_index} "
            f"of a tree of {proof.tree_size}",
        )
    if not hmac.compare_digest(computed, root):
        raise VerificationError("merkle_path", "path does not lead to the expected root")
