// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ITrustRegistry, Kind} from "./Types.sol";

/// @title ConsentRegistry
/// @notice Data-use consents of cardholders. The holder signs a grant or a withdrawal (EIP-712)
/// in the wallet and anyone may relay it, so a citizen needs no gas. A data user asks
/// `isValid` before every use; a withdrawal takes effect from the block that records it.
/// @dev Only commitments are stored: the holder's wallet address, the grantee's entity id and
/// salted hashes of purpose and scope. The consent id is the EIP-712 digest of the grant, so it
/// is fixed by what the holder signed and by this registry (chain id and address).
contract ConsentRegistry is EIP712 {
    /// @notice What the holder signs to grant consent.
    struct Grant {
        address holder;
        bytes32 grantee;
        bytes32 purposeHash;
        bytes32 scopeHash;
        uint64 notBefore;
        uint64 notAfter;
        uint256 nonce;
    }

    /// @dev Five slots; `withdrawnAt == 0` while the consent stands.
    struct Consent {
        address holder;
        uint64 notBefore;
        bytes32 grantee;
        bytes32 purposeHash;
        bytes32 scopeHash;
        uint64 notAfter;
        uint64 withdrawnAt;
    }

    /// @notice EIP-712 type hash of `Grant`.
    bytes32 public constant GRANT_TYPEHASH = keccak256(
        "Grant(address holder,bytes32 grantee,bytes32 purposeHash,bytes32 scopeHash,uint64 notBefore,uint64 notAfter,uint256 nonce)"
    );
    /// @notice EIP-712 type hash of `Withdrawal(bytes32 consentId,uint256 nonce)`.
    bytes32 public constant WITHDRAWAL_TYPEHASH = keccak256("Withdrawal(bytes32 consentId,uint256 nonce)");

    /// @notice The trust registry that says whether a grantee is an active data user.
    ITrustRegistry public immutable trustRegistry;

    mapping(bytes32 consentId => Consent) private _consents;
    /// @dev One nonce space per holder, shared by grants and withdrawals, as a bitmap of 256 nonces
    /// a word so that sequential nonces cost one slot write per 256 signatures.
    mapping(address holder => mapping(uint256 word => uint256 bits)) private _nonces;

    event ConsentGranted(
        bytes32 indexed consentId,
        address indexed holder,
        bytes32 indexed grantee,
        bytes32 purposeHash,
        bytes32 scopeHash,
        uint64 notBefore,
        uint64 notAfter
    );
    event ConsentWithdrawn(bytes32 indexed consentId, address indexed holder, uint64 at);

    error ZeroAddress();
    error InvalidValidity(uint64 notBefore, uint64 notAfter);
    error InvalidSigner(address expected, address recovered);
    error NonceAlreadyUsed(address holder, uint256 nonce);
    error GranteeNotDataUser(bytes32 grantee);
    error EntityNotActive(bytes32 id);
    error UnknownConsent(bytes32 consentId);
    error AlreadyWithdrawn(bytes32 consentId);

    /// @param trustRegistry_ Address of the deployed `TrustRegistry`.
    constructor(address trustRegistry_) EIP712("HRSS Consent", "1") {
        if (trustRegistry_ == address(0)) revert ZeroAddress();
        trustRegistry = ITrustRegistry(trustRegistry_);
    }

    /// @notice Records a consent signed by its holder; callable by any relayer.
    /// @dev Reverts with `ZeroAddress`, `InvalidValidity`, `InvalidSigner` (or OpenZeppelin's
    /// `ECDSAInvalidSignature*` for malformed or malleable signatures), `NonceAlreadyUsed`,
    /// `GranteeNotDataUser` or `EntityNotActive`.
    /// @param g The grant as signed.
    /// @param signature 65-byte ECDSA signature of the holder over the EIP-712 digest of `g`.
    /// @return consentId The EIP-712 digest of `g`.
    function grant(Grant calldata g, bytes calldata signature) external returns (bytes32 consentId) {
        if (g.holder == address(0)) revert ZeroAddress();
        if (g.notBefore >= g.notAfter) revert InvalidValidity(g.notBefore, g.notAfter);
        consentId = hashGrant(g);
        _requireSigner(consentId, signature, g.holder);
        _useNonce(g.holder, g.nonce);
        (uint8 kind,,,) = trustRegistry.entity(g.grantee);
        if (kind != uint8(Kind.DataUser)) revert GranteeNotDataUser(g.grantee);
        if (!trustRegistry.isActive(g.grantee)) revert EntityNotActive(g.grantee);
        // A fresh nonce makes a fresh digest, so `consentId` cannot already be taken.
        _consents[consentId] = Consent({
            holder: g.holder,
            notBefore: g.notBefore,
            grantee: g.grantee,
            purposeHash: g.purposeHash,
            scopeHash: g.scopeHash,
            notAfter: g.notAfter,
            withdrawnAt: 0
        });
        emit ConsentGranted(consentId, g.holder, g.grantee, g.purposeHash, g.scopeHash, g.notBefore, g.notAfter);
    }

    /// @notice Withdraws a consent, effective from this block's time; callable by any relayer.
    /// @dev Reverts with `UnknownConsent`, `AlreadyWithdrawn`, `InvalidSigner` (or
    /// `ECDSAInvalidSignature*`) or `NonceAlreadyUsed`.
    /// @param consentId Consent to withdraw.
    /// @param nonce Unused nonce of the holder.
    /// @param signature 65-byte ECDSA signature of the holder over the EIP-712 `Withdrawal` digest.
    function withdraw(bytes32 consentId, uint256 nonce, bytes calldata signature) external {
        Consent storage c = _consents[consentId];
        address holder = c.holder;
        if (holder == address(0)) revert UnknownConsent(consentId);
        if (c.withdrawnAt != 0) revert AlreadyWithdrawn(consentId);
        _requireSigner(hashWithdrawal(consentId, nonce), signature, holder);
        _useNonce(holder, nonce);
        uint64 at = uint64(block.timestamp);
        c.withdrawnAt = at;
        emit ConsentWithdrawn(consentId, holder, at);
    }

    /// @notice Whether a consent covers use by `grantee` for `purposeHash` at time `at`: not yet
    /// withdrawn at `at`, inside `[notBefore, notAfter)`, and the grantee an active data user at `at`.
    function isValid(bytes32 consentId, bytes32 grantee, bytes32 purposeHash, uint64 at)
        external
        view
        returns (bool)
    {
        Consent storage c = _consents[consentId];
        if (c.holder == address(0)) return false;
        if (c.withdrawnAt != 0 && at >= c.withdrawnAt) return false;
        if (at < c.notBefore || at >= c.notAfter) return false;
        if (c.grantee != grantee || c.purposeHash != purposeHash) return false;
        return trustRegistry.isActiveAt(grantee, at);
    }

    /// @notice A recorded consent; all zeros when unknown.
    function consentOf(bytes32 consentId)
        external
        view
        returns (
            address holder,
            bytes32 grantee,
            bytes32 purposeHash,
            bytes32 scopeHash,
            uint64 notBefore,
            uint64 notAfter,
            uint64 withdrawnAt
        )
    {
        Consent storage c = _consents[consentId];
        return (c.holder, c.grantee, c.purposeHash, c.scopeHash, c.notBefore, c.notAfter, c.withdrawnAt);
    }

    /// @notice Whether `holder` has used `nonce` for a grant or a withdrawal.
    function nonceUsed(address holder, uint256 nonce) public view returns (bool) {
        return _nonces[holder][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @notice EIP-712 digest of a grant, which is also its consent id.
    function hashGrant(Grant calldata g) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    GRANT_TYPEHASH, g.holder, g.grantee, g.purposeHash, g.scopeHash, g.notBefore, g.notAfter, g.nonce
                )
            )
        );
    }

    /// @notice EIP-712 digest of a withdrawal.
    function hashWithdrawal(bytes32 consentId, uint256 nonce) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, consentId, nonce)));
    }

    /// @notice The EIP-712 domain separator of this registry on this chain.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev `ECDSA.recover` rejects malformed signatures and high-`s` (malleable) ones.
    function _requireSigner(bytes32 digest, bytes calldata signature, address expected) private pure {
        address recovered = ECDSA.recover(digest, signature);
        if (recovered != expected) revert InvalidSigner(expected, recovered);
    }

    function _useNonce(address holder, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _nonces[holder][nonce >> 8];
        if (word & bit != 0) revert NonceAlreadyUsed(holder, nonce);
        _nonces[holder][nonce >> 8] = word | bit;
    }
}
