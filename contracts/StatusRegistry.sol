// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ITrustRegistry, Status} from "./Types.sol";

/// @title StatusRegistry
/// @notice Status list of issued credentials: registration (Active), suspension, reinstatement
/// and terminal revocation, each with a reason code and kept as history so that a verifier can
/// ask for the status "as of" any time.
/// @dev Credential ids are random 32-byte values chosen by the issuer; they carry no personal data.
/// Each registration commits to the credential's content (the SHA-256 digest of the
/// issuer-signed token; for an SD-JWT, of its issuer-signed JWS, which holds only salted digests
/// of the disclosable claims) and records the block time: a verifier accepts only that content
/// under the id, and bounds the claimed issue time by the time the chain witnessed.
contract StatusRegistry {
    /// @dev Header, two slots: `issuer`, then registration time, change count and current status.
    /// Registration is history entry 0 and is not stored again, so registering costs two slots.
    struct Credential {
        bytes32 issuer;
        uint64 registeredAt;
        uint32 changes;
        Status status;
        uint16 reason;
    }

    /// @dev One slot.
    struct Change {
        Status status;
        uint16 reason;
        uint64 at;
    }

    /// @dev A training file's advance to its next entry, in a registration batch: the entry is
    /// credential `index` of the batch; `file` is the file's pseudonymous key (a keyed hash of
    /// the file id, so nothing here links a file to a person or to its holder key).
    struct FileAdvance {
        uint32 index;
        bytes32 file;
        uint32 sequence;
        bytes32 previous;
    }

    /// @dev One slot and a half: entry `n` of a file, its digest and the block time.
    struct FileEntry {
        bytes32 digest;
        uint64 at;
    }

    /// @notice The trust registry that decides who may register and change status.
    ITrustRegistry public immutable trustRegistry;

    mapping(bytes32 credentialId => Credential) private _credentials;
    mapping(bytes32 credentialId => mapping(uint256 index => Change)) private _changes;
    mapping(bytes32 credentialId => bytes32 digest) private _digests;
    mapping(bytes32 file => uint256 length) private _fileLengths;
    mapping(bytes32 file => mapping(uint256 sequence => FileEntry)) private _fileEntries;

    event CredentialRegistered(
        bytes32 indexed credentialId, bytes32 indexed issuer, bytes32 digest, uint64 at
    );
    event StatusChanged(
        bytes32 indexed credentialId, bytes32 indexed issuer, uint8 status, uint16 reason, uint64 at
    );

    event FileHeadAdvanced(bytes32 indexed file, uint32 sequence, bytes32 digest, uint64 at);

    error ZeroAddress();
    error ZeroId();
    error EmptyBatch();
    error LengthMismatch(uint256 credentialIds, uint256 digests);
    error ZeroDigest(bytes32 credentialId);
    error NotController(bytes32 id, address account);
    error EntityNotActive(bytes32 id);
    error CredentialExists(bytes32 credentialId);
    error UnknownCredential(bytes32 credentialId);
    error InvalidStatus(uint8 status);
    error StatusUnchanged(bytes32 credentialId, uint8 status);
    error CredentialRevoked(bytes32 credentialId);
    error HistoryIndexOutOfRange(bytes32 credentialId, uint256 index);
    error ZeroFile();
    error AdvanceIndexOutOfRange(uint32 index);
    error FileSequenceTaken(bytes32 file, uint32 sequence, uint256 length);
    error FileSequenceNotNext(bytes32 file, uint32 sequence, uint256 length);
    error FilePreviousMismatch(bytes32 file, uint32 sequence);

    /// @param trustRegistry_ Address of the deployed `TrustRegistry`.
    constructor(address trustRegistry_) {
        if (trustRegistry_ == address(0)) revert ZeroAddress();
        trustRegistry = ITrustRegistry(trustRegistry_);
    }

    /// @notice Registers newly issued credentials of `issuer` as Active, each bound to its
    /// content digest, at this block's time.
    /// @dev Emits `CredentialRegistered` per id (registration is not a `StatusChanged`).
    /// Reverts with `NotController`, `EntityNotActive`, `EmptyBatch`, `LengthMismatch`, `ZeroId`,
    /// `ZeroDigest` or `CredentialExists`.
    /// @param issuer Issuing entity; the caller must be one of its controllers and it must be active.
    /// @param credentialIds Fresh credential ids.
    /// @param digests SHA-256 of each credential's issuer-signed token, in the order of the ids.
    function register(bytes32 issuer, bytes32[] calldata credentialIds, bytes32[] calldata digests) external {
        _register(issuer, credentialIds, digests);
    }

    /// @notice `register`, and in the same transaction each training file entry of the batch
    /// advances its file's head: only to sequence = head length, linking the head's digest
    /// (zero for entry 0), so a file cannot fork on chain. Only the entry's issuer (the caller,
    /// a controller of an active issuer) advances a head.
    /// @dev Emits `FileHeadAdvanced` per advance. Reverts as `register` does, and with
    /// `AdvanceIndexOutOfRange`, `ZeroFile`, `FileSequenceTaken` (an entry at that sequence
    /// exists), `FileSequenceNotNext` (a gap) or `FilePreviousMismatch`.
    /// @param advances The file entries among `credentialIds`, in the order they extend files.
    function registerWithFileHeads(
        bytes32 issuer,
        bytes32[] calldata credentialIds,
        bytes32[] calldata digests,
        FileAdvance[] calldata advances
    ) external {
        _register(issuer, credentialIds, digests);
        uint64 at = uint64(block.timestamp);
        for (uint256 i = 0; i < advances.length; ++i) {
            FileAdvance calldata a = advances[i];
            if (a.index >= credentialIds.length) revert AdvanceIndexOutOfRange(a.index);
            if (a.file == bytes32(0)) revert ZeroFile();
            uint256 length = _fileLengths[a.file];
            if (a.sequence < length) revert FileSequenceTaken(a.file, a.sequence, length);
            if (a.sequence > length) revert FileSequenceNotNext(a.file, a.sequence, length);
            bytes32 head = length == 0 ? bytes32(0) : _fileEntries[a.file][length - 1].digest;
            if (a.previous != head) revert FilePreviousMismatch(a.file, a.sequence);
            bytes32 digest = digests[a.index];
            _fileEntries[a.file][length] = FileEntry({digest: digest, at: at});
            _fileLengths[a.file] = length + 1;
            emit FileHeadAdvanced(a.file, a.sequence, digest, at);
        }
    }

    /// @notice The head of a file: its number of entries, the last entry's digest and the time
    /// it was registered; zeros for a file with no entries.
    function fileHead(bytes32 file) external view returns (uint256 length, bytes32 digest, uint64 at) {
        length = _fileLengths[file];
        if (length == 0) return (0, bytes32(0), 0);
        FileEntry storage e = _fileEntries[file][length - 1];
        return (length, e.digest, e.at);
    }

    /// @notice The head of a file as of time `t`: the entries registered at or before `t`.
    function fileHeadAt(bytes32 file, uint64 t) external view returns (uint256 length, bytes32 digest) {
        mapping(uint256 => FileEntry) storage entries = _fileEntries[file];
        // Binary search for the number of entries with `at <= t`; entries are in time order.
        uint256 low = 0;
        uint256 high = _fileLengths[file];
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (entries[mid].at > t) high = mid;
            else low = mid + 1;
        }
        if (high == 0) return (0, bytes32(0));
        return (high, entries[high - 1].digest);
    }

    function _register(bytes32 issuer, bytes32[] calldata credentialIds, bytes32[] calldata digests) private {
        if (!trustRegistry.isController(issuer, msg.sender)) revert NotController(issuer, msg.sender);
        if (!trustRegistry.isActive(issuer)) revert EntityNotActive(issuer);
        if (credentialIds.length == 0) revert EmptyBatch();
        if (digests.length != credentialIds.length) revert LengthMismatch(credentialIds.length, digests.length);
        uint64 at = uint64(block.timestamp);
        for (uint256 i = 0; i < credentialIds.length; ++i) {
            bytes32 id = credentialIds[i];
            bytes32 digest = digests[i];
            if (id == bytes32(0)) revert ZeroId();
            if (digest == bytes32(0)) revert ZeroDigest(id);
            Credential storage c = _credentials[id];
            if (c.issuer != bytes32(0)) revert CredentialExists(id);
            c.issuer = issuer;
            c.registeredAt = at;
            c.status = Status.Active;
            _digests[id] = digest;
            emit CredentialRegistered(id, issuer, digest, at);
        }
    }

    /// @notice Suspends, reinstates or revokes a credential. Revocation is terminal.
    /// @dev The issuer's accreditor may act too, so a credential can be revoked even when its
    /// issuer is suspended or unresponsive. Reverts with `UnknownCredential`, `NotController`,
    /// `InvalidStatus`, `CredentialRevoked` or `StatusUnchanged`.
    /// @param credentialId Credential to change.
    /// @param status New `Status` (Active, Suspended or Revoked).
    /// @param reason Application-defined reason code.
    function setStatus(bytes32 credentialId, uint8 status, uint16 reason) external {
        Credential storage c = _credentials[credentialId];
        bytes32 issuer = c.issuer;
        if (issuer == bytes32(0)) revert UnknownCredential(credentialId);
        if (!trustRegistry.isController(issuer, msg.sender)) {
            (,, bytes32 accreditor,) = trustRegistry.entity(issuer);
            if (!trustRegistry.isController(accreditor, msg.sender)) revert NotController(issuer, msg.sender);
        }
        if (status < uint8(Status.Active) || status > uint8(Status.Revoked)) revert InvalidStatus(status);
        if (c.status == Status.Revoked) revert CredentialRevoked(credentialId);
        if (uint8(c.status) == status) revert StatusUnchanged(credentialId, status);
        uint64 at = uint64(block.timestamp);
        _changes[credentialId][c.changes] = Change({status: Status(status), reason: reason, at: at});
        c.changes += 1;
        c.status = Status(status);
        c.reason = reason;
        emit StatusChanged(credentialId, issuer, status, reason, at);
    }

    /// @notice Status and reason code of a credential at time `t`; `None` before registration.
    function statusAt(bytes32 credentialId, uint64 t) external view returns (uint8 status, uint16 reason) {
        Credential storage c = _credentials[credentialId];
        if (c.issuer == bytes32(0) || t < c.registeredAt) return (uint8(Status.None), 0);
        mapping(uint256 => Change) storage changes = _changes[credentialId];
        // Binary search for the last change with `at <= t`; changes are stored in time order.
        uint256 low = 0;
        uint256 high = c.changes;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (changes[mid].at > t) high = mid;
            else low = mid + 1;
        }
        if (high == 0) return (uint8(Status.Active), 0);
        Change storage ch = changes[high - 1];
        return (uint8(ch.status), ch.reason);
    }

    /// @notice Current status and reason code of a credential; `None` when unknown.
    function currentStatus(bytes32 credentialId) external view returns (uint8 status, uint16 reason) {
        Credential storage c = _credentials[credentialId];
        return (uint8(c.status), c.reason);
    }

    /// @notice Issuer of a credential; zero when unknown.
    function issuerOf(bytes32 credentialId) external view returns (bytes32) {
        return _credentials[credentialId].issuer;
    }

    /// @notice Issuer, content digest and registration block time of a credential; zeros when
    /// unknown.
    function registrationOf(bytes32 credentialId)
        external
        view
        returns (bytes32 issuer, bytes32 digest, uint64 registeredAt)
    {
        Credential storage c = _credentials[credentialId];
        return (c.issuer, _digests[credentialId], c.registeredAt);
    }

    /// @notice Number of history entries, registration included; 0 when unknown.
    function historyLength(bytes32 credentialId) external view returns (uint256) {
        Credential storage c = _credentials[credentialId];
        return c.issuer == bytes32(0) ? 0 : uint256(c.changes) + 1;
    }

    /// @notice History entry `index` (0 is the registration). Reverts with `HistoryIndexOutOfRange`.
    function historyAt(bytes32 credentialId, uint256 index)
        external
        view
        returns (uint8 status, uint16 reason, uint64 at)
    {
        Credential storage c = _credentials[credentialId];
        if (c.issuer == bytes32(0) || index > c.changes) revert HistoryIndexOutOfRange(credentialId, index);
        if (index == 0) return (uint8(Status.Active), 0, c.registeredAt);
        Change storage ch = _changes[credentialId][index - 1];
        return (uint8(ch.status), ch.reason, ch.at);
    }
}
