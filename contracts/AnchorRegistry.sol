// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ITrustRegistry} from "./Types.sol";

/// @title AnchorRegistry
/// @notice Fixes Merkle roots of document batches in time. Each batch costs one storage slot and
/// one event whatever its size; the per-document proof (leaf, path, root) lives off chain in the
/// anchor receipt.
/// @dev Only accounts bound in `TrustRegistry` to an entity that is active now may anchor.
contract AnchorRegistry {
    /// @dev Exactly one slot: 160 + 64 + 32 bits.
    struct Record {
        address submitter;
        uint64 timestamp;
        uint32 blockNumber;
    }

    /// @notice The trust registry that decides who may anchor.
    ITrustRegistry public immutable trustRegistry;

    mapping(bytes32 root => Record) private _anchors;

    event Anchored(
        bytes32 indexed root,
        bytes32 indexed entityId,
        address indexed submitter,
        uint32 leafCount,
        bytes32 batchRef,
        uint64 timestamp
    );

    error ZeroAddress();
    error ZeroRoot();
    error EmptyBatch();
    error NotAnchoringAccount(address account);
    error EntityNotActive(bytes32 id);
    error RootAlreadyAnchored(bytes32 root);

    /// @param trustRegistry_ Address of the deployed `TrustRegistry`.
    constructor(address trustRegistry_) {
        if (trustRegistry_ == address(0)) revert ZeroAddress();
        trustRegistry = ITrustRegistry(trustRegistry_);
    }

    /// @notice Anchors the Merkle root of a batch of `leafCount` documents.
    /// @dev A root is anchored once, so its first anchoring time is the only one that counts.
    /// Reverts with `ZeroRoot`, `EmptyBatch`, `NotAnchoringAccount`, `EntityNotActive` or
    /// `RootAlreadyAnchored`.
    /// @param root Merkle root (RFC 6962 style, domain-separated leaves and nodes).
    /// @param leafCount Number of leaves in the batch.
    /// @param batchRef Opaque reference to the batch in the submitter's records.
    function anchor(bytes32 root, uint32 leafCount, bytes32 batchRef) external {
        if (root == bytes32(0)) revert ZeroRoot();
        if (leafCount == 0) revert EmptyBatch();
        if (_anchors[root].submitter != address(0)) revert RootAlreadyAnchored(root);
        (bytes32 entityId, bool active) = trustRegistry.activeAnchoringEntity(msg.sender);
        if (entityId == bytes32(0)) revert NotAnchoringAccount(msg.sender);
        if (!active) revert EntityNotActive(entityId);
        _anchors[root] =
            Record({submitter: msg.sender, timestamp: uint64(block.timestamp), blockNumber: uint32(block.number)});
        emit Anchored(root, entityId, msg.sender, leafCount, batchRef, uint64(block.timestamp));
    }

    /// @notice When and by whom `root` was anchored; zeros when never.
    function anchorOf(bytes32 root) external view returns (address submitter, uint64 timestamp, uint32 blockNumber) {
        Record storage r = _anchors[root];
        return (r.submitter, r.timestamp, r.blockNumber);
    }
}
