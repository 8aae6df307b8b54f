// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {ITrustRegistry, KeyPurpose, Kind, Status} from "./Types.sol";

/// @title TrustRegistry
/// @notice Accreditation tree of the HRSS trust layer (Ministry → Province → Issuer, Employer,
/// DataUser, Court), with regions, allowed credential types, status, signing keys and anchoring
/// accounts. Every change that a verifier may need to judge "as of time t" is kept as history,
/// so credentials issued before a rotation, suspension or revocation can still be assessed.
/// @dev Identifiers are opaque `bytes32` values (keccak256 of a namespaced unified social credit
/// code); no personal data is ever stored. Governance is the tree itself: the Ministry's
/// controllers accredit provinces, a province's controllers accredit the bodies in its region.
/// The Ministry has no accreditor, so its status can never change.
contract TrustRegistry is ITrustRegistry {
    using Checkpoints for Checkpoints.Trace208;

    /// @dev Current state. The first slot packs everything `isActive` needs: `provinceSeq` is the
    /// sequence number of the entity's province (its own, for a province), which indexes
    /// `_provinceStatus` without reading `parent` (a second slot).
    struct Entity {
        Kind kind;
        Status status;
        uint32 region;
        uint32 provinceSeq;
        bytes32 parent;
    }

    /// @dev Packed into two slots; `publicKey` follows in its own slots.
    struct Key {
        bytes32 entityId;
        uint8 alg;
        KeyPurpose purpose;
        uint64 validFrom;
        uint64 validUntil;
        uint64 revokedAt;
        bytes publicKey;
    }

    /// @dev A published credential type: the digest of its schema, who published it and when.
    struct TypeSchema {
        bytes32 schemaDigest;
        address publisher;
        uint64 publishedAt;
    }

    /// @dev One binding change of an anchoring account; `entityId == 0` means unbound from `at`.
    struct Binding {
        bytes32 entityId;
        uint64 at;
    }

    /// @notice Key algorithm: EdDSA over Ed25519, 32-byte raw public key.
    uint8 public constant ALG_ED25519 = 1;
    /// @notice Key algorithm: ES256 (ECDSA over P-256), 65-byte uncompressed SEC1 point.
    uint8 public constant ALG_P256 = 2;
    /// @notice Key algorithm: ES256K (ECDSA over secp256k1), 65-byte uncompressed SEC1 point.
    uint8 public constant ALG_SECP256K1 = 3;
    /// @notice Key algorithm: ES384 (ECDSA over P-384), 97-byte uncompressed SEC1 point.
    uint8 public constant ALG_P384 = 4;
    /// @notice Key algorithm: ES512 (ECDSA over P-521), 133-byte uncompressed SEC1 point.
    uint8 public constant ALG_P521 = 5;
    /// @notice Key algorithm: SM2 with SM3 (GB/T 32918), 65-byte uncompressed SEC1 point.
    uint8 public constant ALG_SM2 = 6;

    /// @notice Credential type of the electronic social security card (keccak256 of its URI, as
    /// `wallet_sdk.credentials.types.SOCIAL_SECURITY_CARD_VCT`); only a `CardIssuer` may be allowed it.
    bytes32 public constant SOCIAL_SECURITY_CARD_TYPE = keccak256("urn:hrss:vct:social-security-card:1");

    /// @notice Identifier of the root of the tree, fixed at deployment.
    bytes32 public immutable ministryId;

    mapping(bytes32 id => Entity) private _entities;
    /// @dev Mirror of each province's current status by sequence number (1-based), kept in step
    /// by `setEntityStatus`; it makes the anchoring check cost one slot less.
    mapping(uint32 provinceSeq => Status) private _provinceStatus;
    uint32 private _provinceCount;
    mapping(bytes32 id => mapping(address account => bool)) private _controllers;
    /// @dev Status history; the value packs `status | reason << 8`, keyed by block time.
    mapping(bytes32 id => Checkpoints.Trace208) private _statusHistory;
    /// @dev Allowed credential types; value 1 = allowed, 0 = not allowed, keyed by block time.
    mapping(bytes32 id => mapping(bytes32 credentialType => Checkpoints.Trace208)) private _typeHistory;
    mapping(address account => bytes32 id) private _anchoringEntity;
    mapping(address account => Binding[]) private _anchoringHistory;
    mapping(bytes32 keyId => Key) private _keys;
    /// @dev Published credential types; a type's schema digest is fixed once published.
    mapping(bytes32 credentialType => TypeSchema) private _typeSchemas;

    event EntityAccredited(bytes32 indexed id, uint8 kind, uint32 region, bytes32 indexed parent);
    event EntityStatusChanged(bytes32 indexed id, uint8 status, uint16 reason, uint64 at);
    event CredentialTypeSet(bytes32 indexed id, bytes32 indexed credentialType, bool allowed, uint64 at);
    event CredentialTypePublished(
        bytes32 indexed credentialType, bytes32 schemaDigest, address indexed publisher, uint64 at
    );
    event ControllerSet(bytes32 indexed id, address indexed account, bool enabled);
    event AnchoringAccountSet(bytes32 indexed id, address indexed account, bool enabled, uint64 at);
    event KeyRegistered(
        bytes32 indexed id, bytes32 indexed keyId, uint8 alg, uint8 purpose, uint64 validFrom, uint64 validUntil
    );
    event KeyValidityEnded(bytes32 indexed keyId, uint64 validUntil);
    event KeyRevoked(bytes32 indexed keyId, uint64 revokedAt);

    error ZeroId();
    error ZeroAddress();
    error EntityExists(bytes32 id);
    error UnknownEntity(bytes32 id);
    error NotController(bytes32 id, address account);
    error EntityNotActive(bytes32 id);
    error EntityRevoked(bytes32 id);
    error KindNotAllowed(uint8 parentKind, uint8 kind);
    error InvalidRegion(uint32 region);
    error RegionMismatch(uint32 parentRegion, uint32 region);
    error InvalidStatus(uint8 status);
    error StatusUnchanged(bytes32 id, uint8 status);
    error AnchoringAccountTaken(address account, bytes32 entityId);
    error AnchoringAccountNotSet(bytes32 id, address account);
    error KeyExists(bytes32 keyId);
    error UnknownKey(bytes32 keyId);
    error UnsupportedKeyAlgorithm(uint8 alg);
    error InvalidPublicKey(uint8 alg, uint256 length);
    error InvalidValidity(uint64 validFrom, uint64 validUntil);
    error InvalidKeyPurpose(uint8 purpose);
    error ValidityStartsBeforeRegistration(uint64 validFrom, uint64 registeredAt);
    error ValidityNotShortened(uint64 current, uint64 requested);
    error RevocationNotEarlier(uint64 current, uint64 requested);
    error CardTypeNotAllowedForKind(bytes32 id, uint8 kind);
    error CredentialTypeExists(bytes32 credentialType, bytes32 schemaDigest);

    /// @param ministryId_ Identifier of the Ministry, the root of the tree.
    /// @param ministryRegion 6-digit GB/T 2260 region code of the Ministry.
    /// @param ministryController First controller of the Ministry; it may add others.
    constructor(bytes32 ministryId_, uint32 ministryRegion, address ministryController) {
        if (ministryId_ == bytes32(0)) revert ZeroId();
        _requireRegion(ministryRegion);
        if (ministryController == address(0)) revert ZeroAddress();
        ministryId = ministryId_;
        _entities[ministryId_] =
            Entity({kind: Kind.Ministry, status: Status.Active, region: ministryRegion, provinceSeq: 0, parent: bytes32(0)});
        _pushStatus(ministryId_, Status.Active, 0);
        _controllers[ministryId_][ministryController] = true;
        emit EntityAccredited(ministryId_, uint8(Kind.Ministry), ministryRegion, bytes32(0));
        emit ControllerSet(ministryId_, ministryController, true);
    }

    // ---------------------------------------------------------------------------------------------
    // Writes
    // ---------------------------------------------------------------------------------------------

    /// @notice Accredits a new entity under `parent`, active from the current block.
    /// @dev The Ministry accredits provinces and the national card service platform (a
    /// `CardIssuer`); a province accredits issuers, employers, data users, courts and its card
    /// centres (`CardIssuer`) whose region lies in the province (same first two digits).
    /// Reverts with `NotController`, `EntityNotActive`, `KindNotAllowed`, `InvalidRegion`,
    /// `RegionMismatch`, `EntityExists`, `ZeroId` or `ZeroAddress`.
    /// @param id New entity identifier; unique forever, even after revocation.
    /// @param kind `Kind` of the new entity.
    /// @param region 6-digit GB/T 2260 region code (100000..999999).
    /// @param parent Accreditor; the caller must be one of its controllers.
    /// @param controllers Initial controller accounts of the new entity.
    function accredit(bytes32 id, uint8 kind, uint32 region, bytes32 parent, address[] calldata controllers)
        external
    {
        if (id == bytes32(0)) revert ZeroId();
        Entity storage p = _entities[parent];
        if (p.kind == Kind.None) revert UnknownEntity(parent);
        _requireController(parent);
        if (!isActive(parent)) revert EntityNotActive(parent);
        if (_entities[id].kind != Kind.None) revert EntityExists(id);
        _requireRegion(region);
        if (p.kind == Kind.Ministry) {
            if (kind != uint8(Kind.Province) && kind != uint8(Kind.CardIssuer)) {
                revert KindNotAllowed(uint8(p.kind), kind);
            }
        } else if (p.kind == Kind.Province) {
            if (kind < uint8(Kind.Issuer) || kind > uint8(Kind.CardIssuer)) revert KindNotAllowed(uint8(p.kind), kind);
            // GB/T 2260: the first two digits name the province.
            if (region / 10000 != p.region / 10000) revert RegionMismatch(p.region, region);
        } else {
            revert KindNotAllowed(uint8(p.kind), kind);
        }

        uint32 provinceSeq = p.provinceSeq;
        if (kind == uint8(Kind.Province)) {
            provinceSeq = ++_provinceCount;
            _provinceStatus[provinceSeq] = Status.Active;
        }
        _entities[id] =
            Entity({kind: Kind(kind), status: Status.Active, region: region, provinceSeq: provinceSeq, parent: parent});
        _pushStatus(id, Status.Active, 0);
        emit EntityAccredited(id, kind, region, parent);
        for (uint256 i = 0; i < controllers.length; ++i) {
            _setController(id, controllers[i], true);
        }
    }

    /// @notice Suspends, reinstates or revokes an entity. Revocation is terminal.
    /// @dev Only the accreditor's controllers may act, so an entity cannot reinstate itself.
    /// Reverts with `UnknownEntity`, `NotController`, `InvalidStatus`, `EntityRevoked` or
    /// `StatusUnchanged`.
    /// @param id Entity to change.
    /// @param status New `Status` (Active, Suspended or Revoked).
    /// @param reason Application-defined reason code, kept in history.
    function setEntityStatus(bytes32 id, uint8 status, uint16 reason) external {
        Entity storage e = _requireEntity(id);
        _requireController(e.parent);
        if (status < uint8(Status.Active) || status > uint8(Status.Revoked)) revert InvalidStatus(status);
        if (e.status == Status.Revoked) revert EntityRevoked(id);
        if (uint8(e.status) == status) revert StatusUnchanged(id, status);
        e.status = Status(status);
        if (e.kind == Kind.Province) _provinceStatus[e.provinceSeq] = Status(status);
        _pushStatus(id, Status(status), reason);
        emit EntityStatusChanged(id, status, reason, uint64(block.timestamp));
    }

    /// @notice Allows or disallows a credential type for an entity from the current block.
    /// @dev Only the accreditor's controllers decide what an entity may issue. The e-card type
    /// (`SOCIAL_SECURITY_CARD_TYPE`) may be allowed only to a `CardIssuer`.
    /// Reverts with `UnknownEntity`, `NotController`, `EntityRevoked` or `CardTypeNotAllowedForKind`.
    /// @param id Entity (normally an Issuer or a Province).
    /// @param credentialType Identifier of the credential type (hash of its URI).
    /// @param allowed Whether credentials of this type may be issued from now on.
    function setCredentialType(bytes32 id, bytes32 credentialType, bool allowed) external {
        Entity storage e = _requireEntity(id);
        _requireController(e.parent);
        if (e.status == Status.Revoked) revert EntityRevoked(id);
        if (allowed && credentialType == SOCIAL_SECURITY_CARD_TYPE && e.kind != Kind.CardIssuer) {
            revert CardTypeNotAllowedForKind(id, uint8(e.kind));
        }
        _typeHistory[id][credentialType].push(uint48(block.timestamp), allowed ? 1 : 0);
        emit CredentialTypeSet(id, credentialType, allowed, uint64(block.timestamp));
    }

    /// @notice Publishes a credential type: commits the digest of its JSON Schema (SHA-256 of the
    /// schema's RFC 8785 canonical JSON) under the type's identifier, once and for ever.
    /// @dev Only the Ministry's controllers publish types. A type's schema never changes: a new
    /// version of a schema is a new type (a new `$id`, so a new identifier), and credentials of
    /// the old one keep their schema. Reverts with `NotController`, `ZeroId` or
    /// `CredentialTypeExists`.
    /// @param credentialType Identifier of the credential type (keccak256 of its URI, `$id`).
    /// @param schemaDigest SHA-256 of the schema's canonical JSON; non-zero.
    function publishCredentialType(bytes32 credentialType, bytes32 schemaDigest) external {
        _requireController(ministryId);
        if (credentialType == bytes32(0) || schemaDigest == bytes32(0)) revert ZeroId();
        bytes32 existing = _typeSchemas[credentialType].schemaDigest;
        if (existing != bytes32(0)) revert CredentialTypeExists(credentialType, existing);
        _typeSchemas[credentialType] =
            TypeSchema({schemaDigest: schemaDigest, publisher: msg.sender, publishedAt: uint64(block.timestamp)});
        emit CredentialTypePublished(credentialType, schemaDigest, msg.sender, uint64(block.timestamp));
    }

    /// @notice Adds or removes a controller account of an entity.
    /// @dev The entity's own controllers manage their peers; the accreditor's controllers may too,
    /// so that an entity that lost all its keys can be recovered by its accreditor.
    /// Reverts with `UnknownEntity`, `NotController`, `EntityRevoked` or `ZeroAddress`.
    /// @param id Entity.
    /// @param account Controller account.
    /// @param enabled True to add, false to remove.
    function setController(bytes32 id, address account, bool enabled) external {
        Entity storage e = _requireEntity(id);
        _requireSelfOrAccreditor(id, e.parent);
        if (e.status == Status.Revoked) revert EntityRevoked(id);
        _setController(id, account, enabled);
    }

    /// @notice Binds or unbinds an account that anchors Merkle roots on behalf of an entity.
    /// @dev An account anchors for at most one entity, so every anchor names its entity without
    /// ambiguity. Bindings are kept as history for `anchoringEntityAt`.
    /// Reverts with `UnknownEntity`, `NotController`, `EntityRevoked`, `ZeroAddress`,
    /// `AnchoringAccountTaken` or `AnchoringAccountNotSet`.
    /// @param id Entity on whose behalf `account` anchors.
    /// @param account Anchoring account.
    /// @param enabled True to bind, false to unbind.
    function setAnchoringAccount(bytes32 id, address account, bool enabled) external {
        Entity storage e = _requireEntity(id);
        _requireController(id);
        if (account == address(0)) revert ZeroAddress();
        bytes32 current = _anchoringEntity[account];
        if (enabled) {
            if (e.status == Status.Revoked) revert EntityRevoked(id);
            if (current != bytes32(0)) revert AnchoringAccountTaken(account, current);
            _anchoringEntity[account] = id;
            _anchoringHistory[account].push(Binding({entityId: id, at: uint64(block.timestamp)}));
        } else {
            if (current != id) revert AnchoringAccountNotSet(id, account);
            delete _anchoringEntity[account];
            _anchoringHistory[account].push(Binding({entityId: bytes32(0), at: uint64(block.timestamp)}));
        }
        emit AnchoringAccountSet(id, account, enabled, uint64(block.timestamp));
    }

    /// @notice Registers a key of an entity for one purpose, with its validity window.
    /// @dev `keyId` is unique forever (the RFC 7638 JWK thumbprint, SHA-256), so a credential's
    /// `kid` resolves to exactly one key for all time. A key is valid from its registration block
    /// at the earliest: `validFrom == 0` means this block, an earlier time reverts, so a key can
    /// never vouch for a time the chain had not yet seen it. Reverts with `UnknownEntity`,
    /// `NotController`, `EntityRevoked`, `EntityNotActive`, `ZeroId`, `KeyExists`,
    /// `InvalidKeyPurpose`, `UnsupportedKeyAlgorithm`, `InvalidPublicKey`,
    /// `ValidityStartsBeforeRegistration` or `InvalidValidity`.
    /// @param id Owning entity.
    /// @param keyId Key identifier.
    /// @param alg 1 = Ed25519 (32-byte raw key); uncompressed SEC1 points `0x04 || X || Y`:
    /// 2 = P-256, 3 = secp256k1, 6 = SM2 (65 bytes), 4 = P-384 (97 bytes), 5 = P-521 (133 bytes).
    /// @param purpose `KeyPurpose` (1 client authentication, 2 credential signing, 3 document
    /// signing, 4 anchoring); verifiers accept a key only for its purpose.
    /// @param publicKey Public key bytes in the encoding named by `alg`.
    /// @param validFrom First second of validity, at or after this block; 0 means this block.
    /// @param validUntil First second of invalidity; 0 means open-ended.
    function registerKey(
        bytes32 id,
        bytes32 keyId,
        uint8 alg,
        uint8 purpose,
        bytes calldata publicKey,
        uint64 validFrom,
        uint64 validUntil
    ) external {
        Entity storage e = _requireEntity(id);
        _requireController(id);
        if (e.status == Status.Revoked) revert EntityRevoked(id);
        if (!isActive(id)) revert EntityNotActive(id);
        if (keyId == bytes32(0)) revert ZeroId();
        if (_keys[keyId].entityId != bytes32(0)) revert KeyExists(keyId);
        if (purpose == uint8(KeyPurpose.None) || purpose > uint8(KeyPurpose.Anchoring)) {
            revert InvalidKeyPurpose(purpose);
        }
        _requirePublicKey(alg, publicKey);
        uint64 registeredAt = uint64(block.timestamp);
        if (validFrom == 0) validFrom = registeredAt;
        else if (validFrom < registeredAt) revert ValidityStartsBeforeRegistration(validFrom, registeredAt);
        if (validUntil != 0 && validUntil <= validFrom) revert InvalidValidity(validFrom, validUntil);
        _keys[keyId] = Key({
            entityId: id,
            alg: alg,
            purpose: KeyPurpose(purpose),
            validFrom: validFrom,
            validUntil: validUntil,
            revokedAt: 0,
            publicKey: publicKey
        });
        emit KeyRegistered(id, keyId, alg, purpose, validFrom, validUntil);
    }

    /// @notice Ends a key's validity (routine rotation); may only shorten it.
    /// @dev Credentials signed before `validUntil` still verify "as of" their issue time.
    /// Reverts with `UnknownKey`, `NotController`, `ValidityNotShortened` or `InvalidValidity`.
    /// @param keyId Key to end.
    /// @param validUntil New first second of invalidity.
    function endKeyValidity(bytes32 keyId, uint64 validUntil) external {
        Key storage k = _requireKey(keyId);
        _requireSelfOrAccreditor(k.entityId, _entities[k.entityId].parent);
        if (validUntil == 0 || (k.validUntil != 0 && validUntil >= k.validUntil)) {
            revert ValidityNotShortened(k.validUntil, validUntil);
        }
        if (validUntil <= k.validFrom) revert InvalidValidity(k.validFrom, validUntil);
        k.validUntil = validUntil;
        emit KeyValidityEnded(keyId, validUntil);
    }

    /// @notice Revokes a key (compromise), possibly from a time in the past.
    /// @dev Backdating is what distinguishes revocation from rotation: signatures made after the
    /// compromise stop verifying even if they claim an earlier time. A compromise cannot lie in
    /// the future (ending a key later is `endKeyValidity`): a time after this block is taken as
    /// this block. The time only moves earlier; repeating the current time changes nothing and
    /// emits nothing, so a retry after a lost answer succeeds. Reverts with `UnknownKey`,
    /// `NotController` or `RevocationNotEarlier`.
    /// @param keyId Key to revoke.
    /// @param revokedAt First second from which the key is no longer trusted (non-zero).
    function revokeKey(bytes32 keyId, uint64 revokedAt) external {
        Key storage k = _requireKey(keyId);
        _requireSelfOrAccreditor(k.entityId, _entities[k.entityId].parent);
        if (revokedAt == 0) revert RevocationNotEarlier(k.revokedAt, revokedAt);
        if (revokedAt > block.timestamp) revokedAt = uint64(block.timestamp);
        if (k.revokedAt != 0) {
            if (revokedAt == k.revokedAt) return;
            if (revokedAt > k.revokedAt) revert RevocationNotEarlier(k.revokedAt, revokedAt);
        }
        k.revokedAt = revokedAt;
        emit KeyRevoked(keyId, revokedAt);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice Current record of an entity; all zeros when unknown.
    function entity(bytes32 id) external view returns (uint8 kind, uint32 region, bytes32 parent, uint8 status) {
        Entity storage e = _entities[id];
        return (uint8(e.kind), e.region, e.parent, uint8(e.status));
    }

    /// @notice Status of the entity itself (not its ancestors) at time `t`; `None` before accreditation.
    function statusAt(bytes32 id, uint64 t) public view returns (uint8) {
        return uint8(_statusHistory[id].upperLookupRecent(_key(t)));
    }

    /// @notice Status and reason code of the entity itself at time `t`.
    function statusWithReasonAt(bytes32 id, uint64 t) external view returns (uint8 status, uint16 reason) {
        uint208 packed = _statusHistory[id].upperLookupRecent(_key(t));
        return (uint8(packed), uint16(packed >> 8));
    }

    /// @notice Whether the entity and every ancestor up to the Ministry are active now.
    /// @dev The cheap path the other registries use on every write: at most two storage reads.
    function isActive(bytes32 id) public view returns (bool) {
        Entity storage e = _entities[id];
        if (e.status != Status.Active) return false;
        // The tree has a fixed depth: issuers, employers, data users and courts hang under a
        // province, every province under the Ministry, and the Ministry (having no accreditor) is
        // always active. So only the province remains to be checked, through its mirror; the
        // national card platform hangs directly under the Ministry (province sequence 0).
        return e.kind <= Kind.Province || e.provinceSeq == 0 || _provinceStatus[e.provinceSeq] == Status.Active;
    }

    /// @notice Whether the entity and every ancestor were active at time `t`.
    function isActiveAt(bytes32 id, uint64 t) public view returns (bool) {
        while (id != bytes32(0)) {
            if (statusAt(id, t) != uint8(Status.Active)) return false;
            id = _entities[id].parent;
        }
        return true;
    }

    /// @notice Whether the entity was active at `t` and allowed to issue `credentialType` at `t`.
    function isAccreditedFor(bytes32 id, bytes32 credentialType, uint64 t) external view returns (bool) {
        return _typeHistory[id][credentialType].upperLookupRecent(_key(t)) == 1 && isActiveAt(id, t);
    }

    /// @notice A registered key with its `KeyPurpose`; all zeros when unknown.
    function getKey(bytes32 keyId)
        external
        view
        returns (
            bytes32 entityId,
            uint8 alg,
            bytes memory publicKey,
            uint64 validFrom,
            uint64 validUntil,
            uint64 revokedAt,
            uint8 purpose
        )
    {
        Key storage k = _keys[keyId];
        return (k.entityId, k.alg, k.publicKey, k.validFrom, k.validUntil, k.revokedAt, uint8(k.purpose));
    }

    /// @notice Whether a key was valid at `t`: inside its window, not yet revoked, and its entity
    /// (with every ancestor) active at `t`.
    function isKeyValidAt(bytes32 keyId, uint64 t) external view returns (bool) {
        Key storage k = _keys[keyId];
        if (k.entityId == bytes32(0)) return false;
        if (t < k.validFrom) return false;
        if (k.validUntil != 0 && t >= k.validUntil) return false;
        if (k.revokedAt != 0 && t >= k.revokedAt) return false;
        return isActiveAt(k.entityId, t);
    }

    /// @notice The published schema of a credential type; all zeros when not published.
    function credentialTypeSchema(bytes32 credentialType)
        external
        view
        returns (bytes32 schemaDigest, address publisher, uint64 publishedAt)
    {
        TypeSchema storage t = _typeSchemas[credentialType];
        return (t.schemaDigest, t.publisher, t.publishedAt);
    }

    /// @notice Whether `account` is a controller of entity `id`.
    function isController(bytes32 id, address account) public view returns (bool) {
        return _controllers[id][account];
    }

    /// @notice Entity for which `account` anchored at time `t`; zero when none.
    function anchoringEntityAt(address account, uint64 t) external view returns (bytes32) {
        Binding[] storage h = _anchoringHistory[account];
        // Binary search for the last binding with `at <= t`; bindings are pushed in time order.
        uint256 low = 0;
        uint256 high = h.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (h[mid].at > t) high = mid;
            else low = mid + 1;
        }
        return high == 0 ? bytes32(0) : h[high - 1].entityId;
    }

    /// @notice Entity for which `account` anchors now, and whether it (with its ancestors) is active.
    /// @dev Used by `AnchorRegistry.anchor`; reads current state only to keep anchoring cheap.
    function activeAnchoringEntity(address account) external view returns (bytes32 entityId, bool active) {
        entityId = _anchoringEntity[account];
        active = entityId != bytes32(0) && isActive(entityId);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _requireEntity(bytes32 id) private view returns (Entity storage e) {
        e = _entities[id];
        if (e.kind == Kind.None) revert UnknownEntity(id);
    }

    function _requireKey(bytes32 keyId) private view returns (Key storage k) {
        k = _keys[keyId];
        if (k.entityId == bytes32(0)) revert UnknownKey(keyId);
    }

    function _requireController(bytes32 id) private view {
        if (!_controllers[id][msg.sender]) revert NotController(id, msg.sender);
    }

    function _requireSelfOrAccreditor(bytes32 id, bytes32 parent) private view {
        if (!_controllers[id][msg.sender] && !_controllers[parent][msg.sender]) {
            revert NotController(id, msg.sender);
        }
    }

    function _requireRegion(uint32 region) private pure {
        if (region < 100000 || region > 999999) revert InvalidRegion(region);
    }

    function _requirePublicKey(uint8 alg, bytes calldata publicKey) private pure {
        if (alg == ALG_ED25519) {
            if (publicKey.length != 32) revert InvalidPublicKey(alg, publicKey.length);
        } else {
            // SEC1 uncompressed point: 0x04 || X || Y, each coordinate as wide as the field.
            uint256 length;
            if (alg == ALG_P256 || alg == ALG_SECP256K1 || alg == ALG_SM2) length = 65;
            else if (alg == ALG_P384) length = 97;
            else if (alg == ALG_P521) length = 133;
            else revert UnsupportedKeyAlgorithm(alg);
            if (publicKey.length != length || publicKey[0] != 0x04) revert InvalidPublicKey(alg, publicKey.length);
        }
    }

    function _setController(bytes32 id, address account, bool enabled) private {
        if (account == address(0)) revert ZeroAddress();
        _controllers[id][account] = enabled;
        emit ControllerSet(id, account, enabled);
    }

    function _pushStatus(bytes32 id, Status status, uint16 reason) private {
        _statusHistory[id].push(uint48(block.timestamp), uint208(uint8(status)) | (uint208(reason) << 8));
    }

    /// @dev History keys are uint48 seconds (good for millions of years); later queries saturate.
    function _key(uint64 t) private pure returns (uint48) {
        return t > type(uint48).max ? type(uint48).max : uint48(t);
    }
}
