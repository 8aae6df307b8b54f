"""Key purposes of `TrustRegistry` (``KeyPurpose`` in ``contracts/Types.sol``), for verifiers.

Written here once for the SDK, which does not import ``node_adapter`` on its verification paths;
the values are the contract's wire format and are pinned against ``node_adapter.KeyPurpose``
by the tests.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["KeyPurpose", "purpose_name"]


class KeyPurpose(IntEnum):
    """What a registered key may be used for; a verifier accepts only its own purpose."""

    NONE = 0
    CLIENT_AUTHENTICATION = 1
    CREDENTIAL_SIGNING = 2
    DOCUMENT_SIGNING = 3
    ANCHORING = 4


def purpose_name(value: int) -> str:
    """``"client authentication"`` for 1 and so on; the number itself when unknown."""
    try:
        return KeyPurpose(value).name.lower().replace("_", " ")
    except ValueError:
        return f"unknown purpose {value}"
