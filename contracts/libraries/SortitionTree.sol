// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {HeadTrace} from "./HeadTrace.sol";

/// @title SortitionTree
/// @notice Stake-weighted sampling in O(log n) over a pool whose state at any past block can be read: a Fenwick
/// (binary indexed) tree whose nodes keep their history (HeadTrace: checkpoints keyed by block number, the latest in one slot with their
/// count).
/// @dev Why history: a draw must read the pool as it was BEFORE its seed became known, or whoever can change the
///      pool after seeing the seed (a 1-wei top-up, an unstake request and cancel) re-rolls the draw until it likes
///      the result. The market draws over the pool as of `seedBlock - 1`, a state fixed before `blockhash(seedBlock)`
///      exists.
///      Layout: position i (1-based) belongs to one member forever (append-only, no swap-removal: a member that
///      leaves keeps its position at weight 0), so the position -> member map needs no history. Fenwick node i
///      holds the sum of the weights at positions (i - lowbit(i), i]. The number of positions is checkpointed too,
///      and a read at block B only touches nodes below the length at B: a node created later (which covers older
///      positions) is never read for a block before it existed, and it is created with the current sums of the
///      positions it covers, so it is right from its first checkpoint on.
///      Costs: `set` writes O(log n) checkpoints (a new slot for each node on its first change in a block: the old
///      head moves into the history); every read at a block costs O(log n) node lookups, each one storage read when
///      the node's last change is older than the block (the common case), two when it changed once since, a binary
///      search otherwise.
library SortitionTree {
    using HeadTrace for HeadTrace.Trace;

    /// @notice The tree. Use only through this library.
    struct Tree {
        mapping(uint256 node => HeadTrace.Trace sums) nodes; // Fenwick node i (1-based)
        mapping(address member => uint256 position) indexOf; // 1-based position; 0 = never a member
        mapping(uint256 position => address member) memberAt;
        // Positions ever used << 80 | members with positive weight: a draw reads both, in one slot.
        HeadTrace.Trace sizes;
    }

    uint256 private constant _COUNT_BITS = 80;
    uint256 private constant _COUNT_MASK = (1 << _COUNT_BITS) - 1;

    /// @notice Thrown by `draw` when the total weight is zero.
    error EmptyTree();
    /// @notice Thrown when adding the zero address as a member.
    error ZeroAddressMember();

    /// @notice Inserts, updates or (with weight 0) empties `member`, effective from the current block.
    /// @param t The tree.
    /// @param member The member.
    /// @param weight The new weight; 0 takes the member out of every draw (its position stays reserved).
    function set(Tree storage t, address member, uint256 weight) internal {
        uint48 now_ = SafeCast.toUint48(block.number);
        uint256 position = t.indexOf[member];
        uint256 sizes = t.sizes.latest();
        uint256 n = sizes >> _COUNT_BITS;
        uint256 count = sizes & _COUNT_MASK;
        uint256 old;
        if (position == 0) {
            if (weight == 0) return;
            if (member == address(0)) revert ZeroAddressMember();
            position = ++n;
            t.indexOf[member] = position;
            t.memberAt[position] = member;
            // The new node covers positions (position - lowbit, position - 1] plus its own (still 0) weight.
            t.nodes[position].push(now_, SafeCast.toUint160(_rangeSum(t, position, now_)));
        } else {
            old = _pointValue(t, position, now_);
            if (old == weight) return;
        }
        if (old == 0) ++count;
        else if (weight == 0) --count;
        uint256 newSizes = (n << _COUNT_BITS) | count;
        if (newSizes != sizes) t.sizes.push(now_, SafeCast.toUint160(newSizes));
        for (uint256 i = position; i <= n; i = _nextNode(i)) {
            HeadTrace.Trace storage node = t.nodes[i];
            // Adding the difference keeps every node exact: a sum of fewer than 2**32 weights of at most 2**128
            // (stakes are uint128) fits 160 bits, and the subtraction never underflows because node i includes the
            // old weight.
            node.push(now_, SafeCast.toUint160(node.latest() + weight - old));
        }
    }

    /// @notice Sum of all weights now.
    function total(Tree storage t) internal view returns (uint256) {
        return totalAt(t, block.number);
    }

    /// @notice Sum of all weights at the end of block `blockNumber` (or now, for the current block).
    function totalAt(Tree storage t, uint256 blockNumber) internal view returns (uint256) {
        uint48 key = SafeCast.toUint48(blockNumber);
        return _prefixSum(t, lengthAt(t, blockNumber), key);
    }

    /// @notice Weight of `member` now (0 for a non-member).
    function weightOf(Tree storage t, address member) internal view returns (uint256) {
        return weightAt(t, member, block.number);
    }

    /// @notice Weight of `member` at the end of block `blockNumber`.
    function weightAt(Tree storage t, address member, uint256 blockNumber) internal view returns (uint256) {
        uint256 position = t.indexOf[member];
        if (position == 0 || position > lengthAt(t, blockNumber)) return 0;
        return _pointValue(t, position, SafeCast.toUint48(blockNumber));
    }

    /// @notice Number of members with a positive weight now.
    function size(Tree storage t) internal view returns (uint256) {
        return t.sizes.latest() & _COUNT_MASK;
    }

    /// @notice Number of members with a positive weight at the end of block `blockNumber`.
    function sizeAt(Tree storage t, uint256 blockNumber) internal view returns (uint256) {
        return t.sizes.valueAt(SafeCast.toUint48(blockNumber)) & _COUNT_MASK;
    }

    /// @notice Number of positions in use at the end of block `blockNumber`.
    function lengthAt(Tree storage t, uint256 blockNumber) internal view returns (uint256) {
        return t.sizes.valueAt(SafeCast.toUint48(blockNumber)) >> _COUNT_BITS;
    }

    /// @notice Draws one member now with probability weight / total (reverts on an empty pool).
    function draw(Tree storage t, uint256 random) internal view returns (address) {
        uint256 n = t.sizes.latest() >> _COUNT_BITS;
        uint256 sum = _prefixSum(t, n, SafeCast.toUint48(block.number));
        if (sum == 0) revert EmptyTree();
        (uint256 position,) = positionAt(t, random % sum, n, block.number);
        return t.memberAt[position];
    }

    /// @notice The 1-based position whose weight interval [prefixSum(p - 1), prefixSum(p)) contains `target`, in
    /// the tree of `n` positions as it was at block `blockNumber`, and where that interval starts.
    /// @dev Fenwick descent in O(log n) lookups: the largest p with prefixSum(p) <= target, plus one; what the
    ///      descent subtracts from `target` on its way is prefixSum(p), the start (a second walk would re-read it).
    ///      The caller keeps `target` below the total weight (so the result has a positive weight).
    function positionAt(Tree storage t, uint256 target, uint256 n, uint256 blockNumber)
        internal
        view
        returns (uint256 position, uint256 start)
    {
        uint48 key = SafeCast.toUint48(blockNumber);
        uint256 step = _highestPowerOfTwoAtMost(n);
        while (step != 0) {
            uint256 next = position + step;
            if (next <= n) {
                uint256 node = t.nodes[next].valueAt(key);
                if (node <= target) {
                    position = next;
                    target -= node;
                    start += node;
                }
            }
            step >>= 1;
        }
        return (position + 1, start);
    }

    /// @notice Weight at `position` at block `blockNumber` (the caller keeps the position within the tree of that
    /// block).
    function weightAtPosition(Tree storage t, uint256 position, uint256 blockNumber) internal view returns (uint256) {
        return _pointValue(t, position, SafeCast.toUint48(blockNumber));
    }

    /// @notice Sum of the weights at positions 1..position at block `blockNumber` (0 for position 0).
    function prefixSumAt(Tree storage t, uint256 position, uint256 blockNumber) internal view returns (uint256) {
        return _prefixSum(t, position, SafeCast.toUint48(blockNumber));
    }

    function _prefixSum(Tree storage t, uint256 position, uint48 key) private view returns (uint256 sum) {
        for (uint256 i = position; i != 0; i &= i - 1) {
            sum += t.nodes[i].valueAt(key);
        }
    }

    /// @dev Sum of positions (position - lowbit(position), position - 1]: what node `position` holds beyond its
    ///      own point value.
    function _rangeSum(Tree storage t, uint256 position, uint48 key) private view returns (uint256 sum) {
        uint256 stop = position & (position - 1);
        for (uint256 i = position - 1; i > stop; i &= i - 1) {
            sum += t.nodes[i].valueAt(key);
        }
    }

    function _pointValue(Tree storage t, uint256 position, uint48 key) private view returns (uint256) {
        return t.nodes[position].valueAt(key) - _rangeSum(t, position, key);
    }

    /// @dev Next Fenwick node whose range also covers position i: i + lowbit(i).
    function _nextNode(uint256 i) private pure returns (uint256) {
        unchecked {
            return i + (i & (0 - i)); // 1 <= i << 2**255: neither wraps nor overflows
        }
    }

    function _highestPowerOfTwoAtMost(uint256 n) private pure returns (uint256 p) {
        if (n == 0) return 0;
        p = 1;
        while (p <= n >> 1) p <<= 1;
    }
}
