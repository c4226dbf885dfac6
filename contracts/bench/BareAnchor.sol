// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title BareAnchor (benchmark baseline only; never deployed in production)
 * @notice The alternatives AnchorRegistry is measured against: a root stored with no check at all,
 * the same checkpoint data AnchorRegistry keeps with no check, and one transaction per record hash.
 */
contract BareAnchor {
    struct Checkpoint {
        bytes32 rootHash;
        uint64 timestamp;
        uint64 blockNumber;
    }

    mapping(bytes32 key => bytes32 root) private _roots;
    mapping(bytes32 key => Checkpoint) private _checkpoints;
    mapping(bytes32 recordHash => uint256 timestamp) private _records;

    /// @notice A root was stored under `key`.
    event RootAnchored(bytes32 indexed key, bytes32 rootHash);
    /// @notice A record hash was stored.
    event RecordAnchored(bytes32 indexed recordHash);

    /**
     * @notice Bare root anchor: one slot and an event, no access control, no consistency check.
     * @param key The slot key (e.g. logId ^ treeSize).
     * @param rootHash The root.
     */
    function anchorRoot(bytes32 key, bytes32 rootHash) external {
        _roots[key] = rootHash;
        emit RootAnchored(key, rootHash);
    }

    /**
     * @notice Bare checkpoint anchor: the same two slots AnchorRegistry keeps per checkpoint, no check.
     * @param key The slot key.
     * @param rootHash The root.
     */
    function anchorCheckpoint(bytes32 key, bytes32 rootHash) external {
        _checkpoints[key] =
            Checkpoint({rootHash: rootHash, timestamp: uint64(block.timestamp), blockNumber: uint64(block.number)});
        emit RootAnchored(key, rootHash);
    }

    /**
     * @notice Per-record anchoring: one transaction per record hash, storing its timestamp.
     * @param recordHash The record's hash.
     */
    function anchorRecord(bytes32 recordHash) external {
        _records[recordHash] = block.timestamp;
        emit RecordAnchored(recordHash);
    }
}
