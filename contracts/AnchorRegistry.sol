// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/**
 * @title AnchorRegistry
 * @notice Append-only checkpoints of RFC 6962 / RFC 9162 Merkle logs. Every new checkpoint of a log
 * must come with a consistency proof (RFC 9162 §2.1.4) from the log's latest anchored checkpoint;
 * the contract verifies that proof itself, with the SHA-256 precompile, and refuses anything that is
 * not an append-only extension. Every anchored checkpoint stays readable forever; nothing here can be
 * rewritten or deleted by anyone (no upgradeability, no delete path).
 *
 * Roles: the `DEFAULT_ADMIN_ROLE` holder creates logs, changes a log's operator and pauses anchoring.
 * Each log has exactly one operator, the only account that may anchor its checkpoints.
 *
 * Lookups of unknown logs or checkpoints revert with a custom error rather than returning zeros, so a
 * verifier can never mistake "not anchored" for an anchored all-zero value. The one exception is
 * {latest} on a created log that has no checkpoint yet: it returns all zeros (tree size 0).
 */
contract AnchorRegistry is AccessControl, Pausable {
    /// @dev Per-log state, one storage slot, read and rewritten by every anchor: the operator, the
    /// latest anchored tree size and how many checkpoints the log has (the next checkpoint's ordinal).
    struct Log {
        address operator;
        uint64 treeSize;
        uint32 count;
    }

    /// @dev Largest tree size a checkpoint may have: the 56 bits of its packed entry (RFC 9162 logs
    /// here are JSON-indexed, below 2^53).
    uint256 private constant MAX_TREE_SIZE = (1 << 56) - 1;
    /// @dev Block timestamps up to 2^34 - 1 (the year 2514) and block numbers up to 2^38 - 1 fit.
    uint256 private constant MAX_TIMESTAMP = (1 << 34) - 1;
    uint256 private constant MAX_BLOCK = (1 << 38) - 1;

    mapping(bytes32 logId => Log) private _logs;
    /// @dev The root of every anchored checkpoint, by tree size: one new slot per checkpoint.
    mapping(bytes32 logId => mapping(uint64 treeSize => bytes32)) private _roots;
    /**
     * @dev Checkpoint metadata by ordinal (0 = the log's first checkpoint), two per slot: slot k holds
     * ordinal 2k in its low 128 bits and 2k+1 in its high 128 bits, each entry
     * `treeSize | timestamp << 56 | blockNumber << 90`. So every other checkpoint opens a slot and the
     * others add to one (docs/anchor-registry.md "Storage layout"). Ordinals grow with tree size, so a
     * checkpoint is found by its size with a binary search (views only; `anchor` never searches).
     */
    mapping(bytes32 logId => mapping(uint256 slot => uint256)) private _meta;

    /// @notice The log `logId` was created with `operator` as its operator.
    event LogCreated(bytes32 indexed logId, address indexed operator);

    /// @notice The operator of log `logId` changed from `previousOperator` to `newOperator`.
    event OperatorChanged(bytes32 indexed logId, address indexed previousOperator, address indexed newOperator);

    /// @notice A checkpoint of log `logId` at `treeSize` with `rootHash` was anchored, extending `previousTreeSize`.
    event CheckpointAnchored(bytes32 indexed logId, uint64 treeSize, bytes32 rootHash, uint64 previousTreeSize);

    /// @notice No log `logId` has been created.
    error AnchorRegistryUnknownLog(bytes32 logId);

    /// @notice A log `logId` already exists; log ids are never reused.
    error AnchorRegistryLogExists(bytes32 logId);

    /// @notice The zero address cannot operate a log.
    error AnchorRegistryZeroOperator();

    /// @notice `caller` is not the operator of log `logId`.
    error AnchorRegistryNotOperator(bytes32 logId, address caller);

    /// @notice The proposed tree size `given` does not extend the latest anchored size `latest`.
    error AnchorRegistryStaleSize(uint64 latest, uint64 given);

    /// @notice The proof has `given` elements; RFC 9162 requires exactly `expected` for these sizes.
    error AnchorRegistryBadProofLength(uint256 expected, uint256 given);

    /// @notice The consistency proof leads to `calculatedOldRoot`, not the anchored root `expectedOldRoot`.
    error AnchorRegistryInconsistent(bytes32 expectedOldRoot, bytes32 calculatedOldRoot);

    /// @notice The consistency proof leads to `calculatedNewRoot`, not the submitted root `expectedNewRoot`.
    error AnchorRegistryRootMismatch(bytes32 expectedNewRoot, bytes32 calculatedNewRoot);

    /// @notice No checkpoint of log `logId` at `treeSize` has been anchored.
    error AnchorRegistryUnknownCheckpoint(bytes32 logId, uint64 treeSize);

    /// @notice `value` does not fit the checkpoint's packed storage (a tree size of 2^56 or more; a block
    /// time or number far beyond any chain's today).
    error AnchorRegistryOutOfRange(uint256 value);

    /// @param admin The account that receives `DEFAULT_ADMIN_ROLE` (creates logs, sets operators, pauses).
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /**
     * @notice Creates the log `logId`, operated by `operator`.
     * @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `logId` is new; `operator` is not zero.
     * Emits {LogCreated}.
     * @param logId The log's id (Tianfu derives it as SHA-256("tianfu/log/v1" || 0x00 || name)).
     * @param operator The only account allowed to anchor this log's checkpoints.
     */
    function createLog(bytes32 logId, address operator) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_logs[logId].operator != address(0)) revert AnchorRegistryLogExists(logId);
        if (operator == address(0)) revert AnchorRegistryZeroOperator();
        _logs[logId] = Log({operator: operator, treeSize: 0, count: 0});
        emit LogCreated(logId, operator);
    }

    /**
     * @notice Hands log `logId` to a new operator (key rotation or compromise). Anchored checkpoints stay.
     * @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; the log exists; `newOperator` is not zero.
     * Emits {OperatorChanged}.
     * @param logId The log.
     * @param newOperator The account that anchors from now on.
     */
    function setOperator(bytes32 logId, address newOperator) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Log storage log = _logs[logId];
        address previous = log.operator;
        if (previous == address(0)) revert AnchorRegistryUnknownLog(logId);
        if (newOperator == address(0)) revert AnchorRegistryZeroOperator();
        log.operator = newOperator;
        emit OperatorChanged(logId, previous, newOperator);
    }

    /**
     * @notice Stops all anchoring until {unpause}. Reads stay available.
     * @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; not paused. Emits {Paused}.
     */
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /**
     * @notice Resumes anchoring.
     * @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; paused. Emits {Unpaused}.
     */
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- anchoring

    /**
     * @notice Anchors the checkpoint (`treeSize`, `rootHash`) of log `logId`.
     * @dev Checks, in this order: not paused; the log exists; the caller is its operator;
     * `treeSize` is larger than the latest anchored size (equal or smaller sizes are stale: a log
     * only grows); the proof has exactly the RFC 9162 length; the proof leads from the anchored root
     * to itself (else the operator forked or rewrote history) and to `rootHash`.
     * The first checkpoint of a log needs no proof: `consistencyProof` must then be empty.
     * Emits {CheckpointAnchored}.
     * @param logId The log.
     * @param treeSize The new tree size, larger than the latest anchored one.
     * @param rootHash The RFC 9162 root of the first `treeSize` leaves.
     * @param consistencyProof RFC 9162 §2.1.4.1 PROOF(latest, D[treeSize]).
     */
    function anchor(bytes32 logId, uint64 treeSize, bytes32 rootHash, bytes32[] calldata consistencyProof)
        external
        whenNotPaused
    {
        Log memory log = _logs[logId];
        if (log.operator != msg.sender) {
            if (log.operator == address(0)) revert AnchorRegistryUnknownLog(logId);
            revert AnchorRegistryNotOperator(logId, msg.sender);
        }
        uint64 oldSize = log.treeSize;
        if (treeSize <= oldSize) revert AnchorRegistryStaleSize(oldSize, treeSize);

        if (oldSize == 0) {
            if (consistencyProof.length != 0) revert AnchorRegistryBadProofLength(0, consistencyProof.length);
        } else {
            bytes32 oldRoot = _roots[logId][oldSize];
            (bytes32 calcOld, bytes32 calcNew) = _rootsFromConsistencyProof(oldSize, treeSize, oldRoot, consistencyProof);
            if (calcOld != oldRoot) revert AnchorRegistryInconsistent(oldRoot, calcOld);
            if (calcNew != rootHash) revert AnchorRegistryRootMismatch(rootHash, calcNew);
        }
        if (treeSize > MAX_TREE_SIZE) revert AnchorRegistryOutOfRange(treeSize);
        if (block.timestamp > MAX_TIMESTAMP) revert AnchorRegistryOutOfRange(block.timestamp);
        if (block.number > MAX_BLOCK) revert AnchorRegistryOutOfRange(block.number);

        _roots[logId][treeSize] = rootHash;
        uint256 entry = uint256(treeSize) | (block.timestamp << 56) | (block.number << 90);
        uint32 ordinal = log.count;
        // An even ordinal opens a slot (its high half still empty); an odd one fills the high half.
        if (ordinal & 1 == 0) _meta[logId][ordinal >> 1] = entry;
        else _meta[logId][ordinal >> 1] |= entry << 128;
        _logs[logId] = Log({operator: log.operator, treeSize: treeSize, count: ordinal + 1});
        emit CheckpointAnchored(logId, treeSize, rootHash, oldSize);
    }

    /// @dev The packed metadata entry of checkpoint `ordinal` of log `logId` (0 when there is none).
    function _entry(bytes32 logId, uint256 ordinal) private view returns (uint256) {
        uint256 word = _meta[logId][ordinal >> 1];
        return (ordinal & 1 == 0 ? word : word >> 128) & type(uint128).max;
    }

    /// @dev The metadata entry of the checkpoint of size `treeSize` (binary search over the ordinals), or 0.
    function _find(bytes32 logId, uint64 treeSize) private view returns (uint256) {
        uint256 lo = 0;
        uint256 hi = _logs[logId].count;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            uint256 e = _entry(logId, mid);
            uint64 size = uint64(e & MAX_TREE_SIZE);
            if (size == treeSize) return e;
            if (size < treeSize) lo = mid + 1;
            else hi = mid;
        }
        return 0;
    }

    function _timestampOf(uint256 entry) private pure returns (uint64) {
        return uint64((entry >> 56) & MAX_TIMESTAMP);
    }

    function _blockOf(uint256 entry) private pure returns (uint64) {
        return uint64((entry >> 90) & MAX_BLOCK);
    }

    // ---------------------------------------------------------------- reads

    /**
     * @notice The operator of log `logId`.
     * @dev Reverts with {AnchorRegistryUnknownLog} for a log that was never created.
     * @param logId The log.
     * @return The operator's address.
     */
    function operatorOf(bytes32 logId) external view returns (address) {
        address operator = _logs[logId].operator;
        if (operator == address(0)) revert AnchorRegistryUnknownLog(logId);
        return operator;
    }

    /**
     * @notice The anchored checkpoint of log `logId` at `treeSize`.
     * @dev Reverts with {AnchorRegistryUnknownCheckpoint} when no checkpoint of that size was anchored.
     * @param logId The log.
     * @param treeSize The checkpoint's tree size.
     * @return rootHash The anchored root.
     * @return timestamp The anchoring block's timestamp (seconds).
     * @return blockNumber The anchoring block's number.
     */
    function checkpoint(bytes32 logId, uint64 treeSize)
        external
        view
        returns (bytes32 rootHash, uint64 timestamp, uint64 blockNumber)
    {
        uint256 e = _find(logId, treeSize);
        if (e == 0) revert AnchorRegistryUnknownCheckpoint(logId, treeSize);
        return (_roots[logId][treeSize], _timestampOf(e), _blockOf(e));
    }

    /**
     * @notice The latest anchored checkpoint of log `logId`.
     * @dev Reverts with {AnchorRegistryUnknownLog} for a log that was never created; returns all zeros
     * for a created log without checkpoints.
     * @param logId The log.
     * @return treeSize The latest anchored tree size (0: none yet).
     * @return rootHash Its root.
     * @return timestamp Its anchoring block's timestamp.
     * @return blockNumber Its anchoring block's number.
     */
    function latest(bytes32 logId)
        external
        view
        returns (uint64 treeSize, bytes32 rootHash, uint64 timestamp, uint64 blockNumber)
    {
        Log memory log = _logs[logId];
        if (log.operator == address(0)) revert AnchorRegistryUnknownLog(logId);
        if (log.count == 0) return (0, bytes32(0), 0, 0);
        uint256 e = _entry(logId, log.count - 1);
        return (log.treeSize, _roots[logId][log.treeSize], _timestampOf(e), _blockOf(e));
    }

    /**
     * @notice Whether `proof` proves `leafHash` at `leafIndex` in the anchored checkpoint of log `logId`
     * at `treeSize` (RFC 9162 §2.1.3.2).
     * @dev Returns false, without reverting, for any proof that does not verify: a wrong hash, a proof
     * of the wrong length, `leafIndex` not below `treeSize`. Reverts with {AnchorRegistryUnknownCheckpoint}
     * when no checkpoint of that size is anchored, so "not anchored" is told apart from "bad proof".
     * @param logId The log.
     * @param treeSize The anchored checkpoint's tree size.
     * @param leafIndex The leaf's 0-based index.
     * @param leafHash RFC 9162 leaf hash: SHA-256(0x00 || entry).
     * @param proof RFC 9162 §2.1.3.1 PATH(leafIndex, D[treeSize]), leaf to root.
     * @return True when the proof leads to the anchored root.
     */
    function verifyInclusion(
        bytes32 logId,
        uint64 treeSize,
        uint64 leafIndex,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (_find(logId, treeSize) == 0) revert AnchorRegistryUnknownCheckpoint(logId, treeSize);
        bytes32 root = _roots[logId][treeSize];
        if (leafIndex >= treeSize) return false;
        (uint256 inner, uint256 border) = _decomposeInclusion(leafIndex, treeSize);
        if (proof.length != inner + border) return false;
        bytes32 h = leafHash;
        unchecked {
            for (uint256 i = 0; i < inner; ++i) {
                h = (leafIndex >> i) & 1 == 0 ? _nodeHash(h, proof[i]) : _nodeHash(proof[i], h);
            }
            for (uint256 i = inner; i < proof.length; ++i) {
                h = _nodeHash(proof[i], h);
            }
        }
        return h == root;
    }

    // ---------------------------------------------------------------- RFC 9162 math

    /**
     * @dev RFC 9162 §2.1.4.2, in the shape of transparency-dev/merkle and node/protocol/merkle.ts
     * `rootsFromConsistencyProof`: returns the (old, new) roots the proof implies. Requires
     * 0 < size1 < size2; reverts with {AnchorRegistryBadProofLength} unless the proof has exactly the
     * expected length (a longer proof would let junk ride along; a shorter one cannot be complete).
     */
    function _rootsFromConsistencyProof(uint64 size1, uint64 size2, bytes32 root1, bytes32[] calldata proof)
        private
        view
        returns (bytes32 r1, bytes32 r2)
    {
        (uint256 inner, uint256 mask, uint256 start) = _consistencyShape(size1, size2, proof.length);
        // The loop runs in assembly: it reads proof elements straight from calldata (the length was
        // checked above) and keeps the 0x01 prefix of the 65-byte node-hash input in place across
        // hashes; ~1.7k gas less than the Solidity loop at 10^6 entries (docs/anchor-registry.md).
        assembly ("memory-safe") {
            // SHA-256(0x01 || left || right) via the precompile at address 2 (RFC 9162 §2.1.1).
            function hashInto(buf, left, right) -> h {
                mstore(add(buf, 1), left)
                mstore(add(buf, 33), right)
                if iszero(staticcall(gas(), 2, buf, 65, 0x00, 0x20)) { revert(0, 0) }
                h := mload(0x00)
            }
            let buf := mload(0x40) // scratch past the free memory pointer, never allocated
            mstore8(buf, 0x01)
            let p := proof.offset
            let end := add(p, shl(5, proof.length))
            // When size1 is a power of two the old tree is a complete subtree of the new one: its root
            // is the seed and is not repeated in the proof (RFC 9162 §2.1.4.1, the `b` flag).
            switch start
            case 0 { r1 := root1 }
            default {
                r1 := calldataload(p)
                p := add(p, 0x20)
            }
            r2 := r1
            // Path elements: a set mask bit means the element is a left sibling of both paths; a clear
            // bit means a right sibling, which only the new tree has (RFC 9162 §2.1.4.2 step 6).
            let innerEnd := add(p, shl(5, inner))
            for {} lt(p, innerEnd) {
                p := add(p, 0x20)
                mask := shr(1, mask)
            } {
                let e := calldataload(p)
                switch and(mask, 1)
                case 1 {
                    r1 := hashInto(buf, e, r1)
                    r2 := hashInto(buf, e, r2)
                }
                default { r2 := hashInto(buf, r2, e) }
            }
            // Border elements: left siblings of both paths.
            for {} lt(p, end) { p := add(p, 0x20) } {
                let e := calldataload(p)
                r1 := hashInto(buf, e, r1)
                r2 := hashInto(buf, e, r2)
            }
        }
    }

    /**
     * @dev The shape of a consistency proof from size1 to size2 (0 < size1 < size2), after RFC 9162
     * §2.1.4.2: `inner` path elements steered by the bits of `mask`, then border elements; `start` is 1
     * when the proof begins with the seed (size1 not a power of two). Reverts with
     * {AnchorRegistryBadProofLength} unless `given` is exactly the expected length.
     */
    function _consistencyShape(uint64 size1, uint64 size2, uint256 given)
        private
        pure
        returns (uint256 inner, uint256 mask, uint256 start)
    {
        unchecked {
            (uint256 fullInner, uint256 border) = _decomposeInclusion(size1 - 1, size2);
            uint256 shift = _trailingZeros(size1);
            start = uint256(size1) == uint256(1) << shift ? 0 : 1;
            // fullInner > shift always holds here: size2 > size1 makes (size1-1) ^ (size2-1) reach bit `shift`.
            inner = fullInner - shift;
            uint256 expected = start + inner + border;
            if (given != expected) revert AnchorRegistryBadProofLength(expected, given);
            mask = uint256(size1 - 1) >> shift;
        }
    }

    /// @dev RFC 9162 §2.1.3.2: inner = bit length of (index XOR (size-1)), border = popcount(index >> inner).
    function _decomposeInclusion(uint64 index, uint64 size) private pure returns (uint256 inner, uint256 border) {
        unchecked {
            uint256 x = uint256(index ^ (size - 1));
            inner = x == 0 ? 0 : Math.log2(x) + 1;
            border = _popcount(uint256(index) >> inner);
        }
    }

    /// @dev Number of set bits of a 64-bit value (SWAR: pairs, nibbles, bytes, then a byte-sum multiply).
    function _popcount(uint256 x) private pure returns (uint256) {
        unchecked {
            x = x - ((x >> 1) & 0x5555555555555555);
            x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
            return ((x * 0x0101010101010101) >> 56) & 0xff;
        }
    }

    /// @dev Number of trailing zero bits of v (v > 0): the position of its lowest set bit.
    function _trailingZeros(uint64 v) private pure returns (uint256) {
        unchecked {
            uint256 x = uint256(v);
            return Math.log2(x & (~x + 1));
        }
    }

    /**
     * @dev RFC 9162 §2.1.1 interior node: SHA-256(0x01 || left || right), via a direct staticcall to the
     * SHA-256 precompile (address 2) over 65 bytes written past the free memory pointer (scratch, not
     * allocated), which avoids abi.encodePacked's allocation on every hash.
     */
    function _nodeHash(bytes32 left, bytes32 right) private view returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x01)
            mstore(add(ptr, 1), left)
            mstore(add(ptr, 33), right)
            if iszero(staticcall(gas(), 2, ptr, 65, 0x00, 0x20)) { revert(0, 0) }
            h := mload(0x00)
        }
    }
}
