// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ITrustRegistry, Kind} from "./Types.sol";

/// @title ConsentRegistry
/// @notice Data-use consents of cardholders. The holder signs a grant or a withdrawal (EIP-712)
/// in the wallet and anyone may relay it, so a citizen needs no gas. A data user asks
/// `isValid` before every use; a withdrawal takes effect from the block that records it.
/// A person, not a phone: when a card issuer replaces a person's e-card on a new phone it records
/// a holder succession (old holder address → new one). From then on the successor, and its own
/// successors, may withdraw the old holder's consents, and the old address grants no more.
/// @dev Only commitments are stored: the holder's wallet address, the grantee's entity id and
/// salted hashes of purpose and scope. The consent id is the EIP-712 digest of the grant, so it
/// is fixed by what the holder signed and by this registry (chain id and address). A succession
/// links two pseudonymous addresses and names the card issuer that vouched for it, nothing else.
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

    /// @dev One slot: a holder's successor and the block time the succession was recorded.
    struct Succession {
        address successor;
        uint64 at;
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
    /// @dev At most one successor per address; the links form chains without cycles.
    mapping(address holder => Succession) private _successions;

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
    /// @notice A withdrawal signed by a successor of the consent's holder (emitted after
    /// `ConsentWithdrawn`).
    event ConsentWithdrawnBySuccessor(bytes32 indexed consentId, address indexed successor);
    event HolderSucceeded(
        address indexed predecessor, address indexed successor, bytes32 indexed cardIssuer, uint64 at
    );

    error ZeroAddress();
    error InvalidValidity(uint64 notBefore, uint64 notAfter);
    error InvalidSigner(address expected, address recovered);
    error NonceAlreadyUsed(address holder, uint256 nonce);
    error GranteeNotDataUser(bytes32 grantee);
    error EntityNotActive(bytes32 id);
    error UnknownConsent(bytes32 consentId);
    error AlreadyWithdrawn(bytes32 consentId);
    error NotController(bytes32 id, address account);
    error NotCardIssuer(bytes32 id);
    error SuccessorExists(address holder, address successor);
    error SuccessionCycle(address predecessor, address successor);
    error HolderSuperseded(address holder, address successor);

    /// @param trustRegistry_ Address of the deployed `TrustRegistry`.
    constructor(address trustRegistry_) EIP712("HRSS Consent", "1") {
        if (trustRegistry_ == address(0)) revert ZeroAddress();
        trustRegistry = ITrustRegistry(trustRegistry_);
    }

    /// @notice Records a consent signed by its holder; callable by any relayer.
    /// @dev Reverts with `ZeroAddress`, `InvalidValidity`, `InvalidSigner` (or OpenZeppelin's
    /// `ECDSAInvalidSignature*` for malformed or malleable signatures), `HolderSuperseded` (the
    /// holder's phone was replaced: its successor grants now), `NonceAlreadyUsed`,
    /// `GranteeNotDataUser` or `EntityNotActive`.
    /// @param g The grant as signed.
    /// @param signature 65-byte ECDSA signature of the holder over the EIP-712 digest of `g`.
    /// @return consentId The EIP-712 digest of `g`.
    function grant(Grant calldata g, bytes calldata signature) external returns (bytes32 consentId) {
        if (g.holder == address(0)) revert ZeroAddress();
        if (g.notBefore >= g.notAfter) revert InvalidValidity(g.notBefore, g.notAfter);
        consentId = hashGrant(g);
        _requireSigner(consentId, signature, g.holder);
        address successor = _successions[g.holder].successor;
        if (successor != address(0)) revert HolderSuperseded(g.holder, successor);
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
    /// The withdrawal is signed by the consent's holder or by a successor of the holder
    /// (transitively: the new phone's address after one or more replacements), whose nonce it
    /// uses.
    /// @dev Reverts with `UnknownConsent`, `AlreadyWithdrawn`, `InvalidSigner` (or
    /// `ECDSAInvalidSignature*`) or `NonceAlreadyUsed`. A successor's withdrawal also emits
    /// `ConsentWithdrawnBySuccessor`.
    /// @param consentId Consent to withdraw.
    /// @param nonce Unused nonce of the signer.
    /// @param signature 65-byte ECDSA signature of the holder or a successor over the EIP-712
    /// `Withdrawal` digest.
    function withdraw(bytes32 consentId, uint256 nonce, bytes calldata signature) external {
        Consent storage c = _consents[consentId];
        address holder = c.holder;
        if (holder == address(0)) revert UnknownConsent(consentId);
        if (c.withdrawnAt != 0) revert AlreadyWithdrawn(consentId);
        // A succession exists only from the block that recorded it, so a successor's
        // signature counts from the succession time on.
        address signer = ECDSA.recover(hashWithdrawal(consentId, nonce), signature);
        if (signer != holder && !isSuccessorOf(holder, signer)) revert InvalidSigner(holder, signer);
        _useNonce(signer, nonce);
        uint64 at = uint64(block.timestamp);
        c.withdrawnAt = at;
        emit ConsentWithdrawn(consentId, holder, at);
        if (signer != holder) emit ConsentWithdrawnBySuccessor(consentId, signer);
    }

    /// @notice Records that `successor` is the new wallet address of the person who held
    /// `predecessor` (a replaced or lost phone), as vouched for by a card issuer that knows both
    /// e-cards are that person's. The caller is a controller of `cardIssuer`, an active
    /// `CardIssuer`. Each address has at most one successor and the links never form a cycle.
    /// @dev Reverts with `ZeroAddress`, `NotController`, `NotCardIssuer`, `EntityNotActive`,
    /// `SuccessorExists` or `SuccessionCycle` (which covers `predecessor == successor`). The
    /// cycle check walks the successor's chain: one link per phone change of one person.
    function recordSuccession(bytes32 cardIssuer, address predecessor, address successor) external {
        if (predecessor == address(0) || successor == address(0)) revert ZeroAddress();
        if (!trustRegistry.isController(cardIssuer, msg.sender)) revert NotController(cardIssuer, msg.sender);
        (uint8 kind,,,) = trustRegistry.entity(cardIssuer);
        if (kind != uint8(Kind.CardIssuer)) revert NotCardIssuer(cardIssuer);
        if (!trustRegistry.isActive(cardIssuer)) revert EntityNotActive(cardIssuer);
        address existing = _successions[predecessor].successor;
        if (existing != address(0)) revert SuccessorExists(predecessor, existing);
        for (address a = successor; a != address(0); a = _successions[a].successor) {
            if (a == predecessor) revert SuccessionCycle(predecessor, successor);
        }
        uint64 at = uint64(block.timestamp);
        _successions[predecessor] = Succession({successor: successor, at: at});
        emit HolderSucceeded(predecessor, successor, cardIssuer, at);
    }

    /// @notice The direct successor of `holder` and the time it was recorded; zeros when none.
    function successorOf(address holder) external view returns (address successor, uint64 at) {
        Succession storage s = _successions[holder];
        return (s.successor, s.at);
    }

    /// @notice Whether `candidate` succeeds `holder`, directly or through later successions.
    function isSuccessorOf(address holder, address candidate) public view returns (bool) {
        if (candidate == address(0)) return false;
        for (address a = _successions[holder].successor; a != address(0); a = _successions[a].successor) {
            if (a == candidate) return true;
        }
        return false;
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
