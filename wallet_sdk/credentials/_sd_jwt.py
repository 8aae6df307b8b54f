"""SD-JWT disclosure machinery (RFC 9901), written once for issuer, holder and verifier.

Paths name claims inside ``credentialSubject`` as JSON Pointers (RFC 6901): ``/address``,
``/address/locality``, ``/nationalities/1``; ``*`` stands for any array index. A bare name
(``level``) means the top-level claim ``/level``.

- `conceal` (issuer): replaces the claims at the given paths by digests, at any depth: object
  properties go into the object's ``_sd`` array (§4.2.4.1), array elements become
  ``{"...": digest}`` (§4.2.4.2), and a path under another concealed path gives a recursive
  disclosure (§4.2.6). Every object or array that conceals something gets decoy digests
  (§4.2.5).
- `disclosure_paths` / `select_disclosures` (holder): where each disclosure sits, and which
  disclosures a chosen set of paths needs (a claim's parents and everything under it).
- `compact_from_json` (verifier): the JSON serialization (§8, general and flattened) turned
  into the compact form the rest of the code reads.

Every function raises only `FormatError`.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from wallet_sdk.credentials._model import canonical_json, sha256_b64
from wallet_sdk.errors import FormatError, JsonTooDeep
from wallet_sdk.jose import b64url_decode, b64url_encode
from wallet_sdk.nesting import load_json

__all__ = [
    "Path",
    "compact_from_json",
    "conceal",
    "disclosure_paths",
    "encode_disclosure",
    "format_path",
    "parse_path",
    "path_allowed",
    "select_disclosures",
]

Path = tuple[str, ...]
ANY_INDEX = "*"
_MAX_DEPTH = 16


def parse_path(text: str) -> Path:
    """A JSON Pointer (or a bare top-level name) as its reference tokens.

    Raises `FormatError` for a non-string, an empty path, an empty token, a bad ``~``
    escape, or more than 16 levels."""
    if not isinstance(text, str):
        raise FormatError(f"disclosable path {text!r} is not a string")
    return _parse_path(text)


@lru_cache(maxsize=4096)
def _parse_path(text: str) -> Path:
    if not text or text == "/":
        raise FormatError(f"disclosable path {text!r} is empty")
    if not text.startswith("/"):
        text = "/" + text.replace("~", "~0").replace("/", "~1")
    tokens = text[1:].split("/")
    if len(tokens) > _MAX_DEPTH:
        raise FormatError(f"disclosable path {text!r} is deeper than {_MAX_DEPTH} levels")
    parsed: list[str] = []
    for token in tokens:
        if not token or "~" in token.replace("~0", "").replace("~1", ""):
            raise FormatError(f"disclosable path {text!r} is not a JSON Pointer")
        parsed.append(token.replace("~1", "/").replace("~0", "~"))
    return tuple(parsed)


def format_path(path: Sequence[str]) -> str:
    """The JSON Pointer of a path."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in path)


def _token_matches(pattern: str, token: str) -> bool:
    return pattern == token or (pattern == ANY_INDEX and token.isdigit())


def _matches(pattern: Path, path: Path) -> bool:
    return len(pattern) == len(path) and all(map(_token_matches, pattern, path))


def path_allowed(path: Path, allowed: Collection[Path]) -> bool:
    """Whether `path` (which may itself use ``*``) is one of the `allowed` patterns."""
    return path in allowed or any(_matches(pattern, path) for pattern in allowed)


def encode_disclosure(content: Sequence[Any], *, salt: str | None = None) -> str:
    """base64url of the JSON array ``[salt, *content]`` (RFC 9901 §4.2.1, §4.2.2), with a
    128-bit random salt unless one is given."""
    salt = b64url_encode(secrets.token_bytes(16)) if salt is None else salt
    return b64url_encode(canonical_json([salt, *content]))


def _disclosure(content: list[Any]) -> tuple[str, str]:
    disclosure = encode_disclosure(content)
    return disclosure, sha256_b64(disclosure)


def _decoy() -> str:
    return sha256_b64(b64url_encode(secrets.token_bytes(16)))


def conceal(
    node: Mapping[str, Any], paths: Collection[Path], *, decoys: int, out: list[str]
) -> dict[str, Any]:
    """`node` with the claims at `paths` (relative to it) replaced by digests; the
    disclosures are appended to `out`, deepest first. `decoys` decoy digests go into every
    object or array that conceals something, and always into `node` itself."""
    return _conceal_object(node, paths, decoys, out, top=True)


def _split(paths: Iterable[Path]) -> tuple[set[str], dict[str, list[Path]]]:
    here: set[str] = set()
    below: dict[str, list[Path]] = {}
    for path in paths:
        if len(path) == 1:
            here.add(path[0])
        else:
            below.setdefault(path[0], []).append(path[1:])
    return here, below


def _conceal_value(value: Any, paths: list[Path] | None, decoys: int, out: list[str]) -> Any:
    if not paths:
        return value
    if isinstance(value, Mapping):
        return _conceal_object(value, paths, decoys, out, top=False)
    if isinstance(value, list):
        return _conceal_array(value, paths, decoys, out)
    return value  # a path through a scalar names nothing: the claim is absent here


def _conceal_object(
    node: Mapping[str, Any], paths: Iterable[Path], decoys: int, out: list[str], *, top: bool
) -> dict[str, Any]:
    here, below = _split(paths)
    result: dict[str, Any] = {}
    digests: list[str] = []
    for name, value in node.items():
        if below:
            value = _conceal_value(value, below.get(name), decoys, out)
        if name in here:
            disclosure, digest = _disclosure([name, value])
            out.append(disclosure)
            digests.append(digest)
        else:
            result[name] = value
    if digests or top:
        digests.extend(_decoy() for _ in range(decoys))
        if digests:
            result["_sd"] = sorted(digests)
    return result


def _conceal_array(
    node: list[Any], paths: Iterable[Path], decoys: int, out: list[str]
) -> list[Any]:
    here, below = _split(paths)
    every_here, every_below = ANY_INDEX in here, below.get(ANY_INDEX, [])
    result: list[Any] = []
    for index, value in enumerate(node):
        key = str(index)
        value = _conceal_value(value, below.get(key, []) + every_below, decoys, out)
        if every_here or key in here:
            disclosure, digest = _disclosure([value])
            out.append(disclosure)
            result.append({"...": digest})
        else:
            result.append(value)
    if len(result) and any(isinstance(v, dict) and "..." in v for v in result):
        for _ in range(decoys):
            result.insert(secrets.randbelow(len(result) + 1), {"...": _decoy()})
    return result


def _decode(disclosure: str) -> list[Any]:
    try:
        decoded = load_json(b64url_decode(disclosure), what="disclosure")
    except JsonTooDeep:
        raise
    except (FormatError, ValueError) as err:
        raise FormatError("a disclosure is not base64url JSON") from err
    if not isinstance(decoded, list) or len(decoded) not in (2, 3):
        raise FormatError("a disclosure is a JSON array of 2 or 3 elements")
    return decoded


def disclosure_paths(payload: Mapping[str, Any], disclosures: Sequence[str]) -> dict[str, Path]:
    """Where each disclosure of an issuance sits in the fully disclosed payload, by
    disclosure, in the order given. Array indices count the disclosed array (decoys are not
    elements). Raises `FormatError` for a malformed disclosure or one no digest refers to."""
    by_digest = {sha256_b64(d): (d, _decode(d)) for d in disclosures}
    found: dict[str, Path] = {}

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, Mapping):
            for name, value in node.items():
                if name != "_sd":
                    walk(value, (*path, name))
            digests = node.get("_sd")
            for digest in digests if isinstance(digests, list) else ():
                entry = by_digest.get(digest) if isinstance(digest, str) else None
                if entry is not None and len(entry[1]) == 3 and isinstance(entry[1][1], str):
                    found[entry[0]] = (*path, entry[1][1])
                    walk(entry[1][2], (*path, entry[1][1]))
        elif isinstance(node, list):
            index = 0
            for element in node:
                if isinstance(element, Mapping) and set(element) == {"..."}:
                    digest = element["..."]
                    entry = by_digest.get(digest) if isinstance(digest, str) else None
                    if entry is None or len(entry[1]) != 2:
                        continue  # a decoy, or a disclosure the holder does not have
                    found[entry[0]] = (*path, str(index))
                    walk(entry[1][1], (*path, str(index)))
                else:
                    walk(element, (*path, str(index)))
                index += 1

    walk(payload, ())
    if len(found) != len(by_digest):
        raise FormatError("a disclosure matches no digest in the credential")
    return {disclosure: found[disclosure] for disclosure in disclosures}


def select_disclosures(located: Mapping[str, Path], chosen: Iterable[Path]) -> list[str]:
    """The disclosures that reveal the claims at the `chosen` paths: for each, the
    disclosures of its parents and of everything under it. Raises `FormatError` naming the
    chosen paths no disclosure serves."""
    picked: set[str] = set()
    missing: list[str] = []
    for path in chosen:
        hits = [
            disclosure
            for disclosure, where in located.items()
            if _matches(path[: len(where)], where) or _matches(path, where[: len(path)])
        ]
        if not hits:
            missing.append(format_path(path))
        picked.update(hits)
    if missing:
        raise FormatError(f"no disclosure for {sorted(missing)}")
    return [disclosure for disclosure in located if disclosure in picked]


def compact_from_json(text: str) -> str:
    """The compact SD-JWT (``<jwt>~<disclosures>~[<kb-jwt>]``) of an SD-JWT in the JSON
    serialization (RFC 9901 §8), general or flattened. The disclosures and the KB-JWT sit in
    the unprotected header of the (only) signature. Raises `FormatError` when the JSON is not
    that shape, or the general form carries other than one signature."""
    try:
        document = load_json(text, what="SD-JWT JSON serialization")
    except ValueError as err:
        raise FormatError("the JSON serialization is not valid JSON") from err
    if not isinstance(document, dict) or not isinstance(document.get("payload"), str):
        raise FormatError("the JSON serialization needs a string 'payload'")
    if "signatures" in document:
        signatures = document["signatures"]
        if "signature" in document or "protected" in document:
            raise FormatError("the JSON serialization mixes the general and flattened forms")
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise FormatError("the general JSON serialization must carry exactly one signature")
        signed = signatures[0]
        if not isinstance(signed, dict):
            raise FormatError("a signature of the JSON serialization must be an object")
    else:
        signed = document
    protected, signature = signed.get("protected"), signed.get("signature")
    header = signed.get("header", {})
    if not isinstance(protected, str) or not isinstance(signature, str):
        raise FormatError("the JSON serialization needs string 'protected' and 'signature'")
    if not isinstance(header, dict):
        raise FormatError("the unprotected 'header' must be an object")
    disclosures = header.get("disclosures", [])
    if not isinstance(disclosures, list) or not all(isinstance(d, str) for d in disclosures):
        raise FormatError("'disclosures' must be an array of strings")
    kb_jwt = header.get("kb_jwt", "")
    if not isinstance(kb_jwt, str):
        raise FormatError("'kb_jwt' must be a string")
    if any("~" in part for part in (protected, document["payload"], signature, kb_jwt)) or any(
        "~" in d for d in disclosures
    ):
        raise FormatError("the JSON serialization carries a '~'")
    jwt = f"{protected}.{document['payload']}.{signature}"
    return "~".join([jwt, *disclosures]) + "~" + kb_jwt
