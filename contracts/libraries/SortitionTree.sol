// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title SortitionTree
/// @notice Stake-weighted sampling in O(log n): a Fenwick (binary indexed) tree over member weights.
/// @dev Position i (1-based) holds one member. Fenwick node i stores the sum of the weights at positions
///      (i - lowbit(i), i]; it lives at `nodes[i - 1]`. Members with weight 0 are removed by moving the last member
///      into the hole, which keeps the tree dense (n == number of members with positive weight), so:
///      - `set` costs O(log n) storage writes (two Fenwick updates when a member leaves),
///      - `draw` costs O(log n) storage reads (a Fenwick descent) plus the O(log n) reads of `total`,
///      - `weightOf` and `total` cost O(log n) reads and no writes.
///      A Fenwick array of length n - 1 is exactly the first n - 1 nodes of one of length n (node j only covers
///      positions <= j), so popping the last node after zeroing its position keeps the tree valid.
library SortitionTree {
    /// @notice The tree. Use only through this library.
    struct Tree {
        uint256[] nodes; // Fenwick node i (1-based) at nodes[i - 1]
        mapping(address member => uint256 position) indexOf; // 1-based position; 0 = not a member
        address[] members; // member at position i is members[i - 1]
    }

    /// @notice Thrown by `draw` when the total weight is zero.
    error EmptyTree();
    /// @notice Thrown when adding the zero address as a member.
    error ZeroAddressMember();

    /// @notice Inserts, updates or (with weight 0) removes `member`.
    /// @param t The tree.
    /// @param member The member.
    /// @param weight The new weight; 0 removes the member (a no-op for a non-member).
    function set(Tree storage t, address member, uint256 weight) internal {
        uint256 position = t.indexOf[member];
        if (position == 0) {
            if (weight == 0) return;
            if (member == address(0)) revert ZeroAddressMember();
            position = t.members.length + 1;
            // The new node holds its own weight plus positions (position - lowbit, position - 1], all present.
            t.nodes.push(_rangeSum(t, position) + weight);
            t.members.push(member);
            t.indexOf[member] = position;
            return;
        }
        uint256 old = _pointValue(t, position);
        if (weight != 0) {
            _update(t, position, old, weight);
            return;
        }
        // Removal: drop the last position, then move its member into the hole. Node `last` is the only node that
        // depends on position `last`, and it is dropped whole, so the shorter array is a valid Fenwick tree.
        uint256 last = t.members.length;
        address moved = t.members[last - 1];
        uint256 movedWeight = _pointValue(t, last);
        t.nodes.pop();
        t.members.pop();
        delete t.indexOf[member];
        if (position != last) {
            _update(t, position, old, movedWeight);
            t.members[position - 1] = moved;
            t.indexOf[moved] = position;
        }
    }

    /// @notice Sum of all weights.
    /// @param t The tree.
    /// @return sum The total weight.
    function total(Tree storage t) internal view returns (uint256 sum) {
        return _prefixSum(t, t.nodes.length);
    }

    /// @notice Current weight of `member` (0 for a non-member).
    /// @param t The tree.
    /// @param member The member.
    /// @return weight The weight.
    function weightOf(Tree storage t, address member) internal view returns (uint256 weight) {
        uint256 position = t.indexOf[member];
        if (position == 0) return 0;
        return _pointValue(t, position);
    }

    /// @notice Number of members (positions with positive weight).
    /// @param t The tree.
    /// @return n The member count.
    function size(Tree storage t) internal view returns (uint256 n) {
        return t.members.length;
    }

    /// @notice Draws one member with probability weight / total.
    /// @dev `random % total` has a bias below total / 2**256, negligible for any real stake total.
    /// @param t The tree.
    /// @param random A uniformly random word (e.g. a hash of a seed and an attempt counter).
    /// @return member The drawn member.
    function draw(Tree storage t, uint256 random) internal view returns (address member) {
        uint256 sum = _prefixSum(t, t.nodes.length);
        if (sum == 0) revert EmptyTree();
        // In [0, total): the member whose weight interval contains it wins.
        return t.members[positionAt(t, random % sum) - 1];
    }

    /// @notice The 1-based position whose weight interval [prefixSum(p - 1), prefixSum(p)) contains `target`.
    /// @dev Fenwick descent in O(log n) reads: the largest p with prefixSum(p) <= target, plus one. The caller
    ///      keeps `target` below the total weight.
    /// @param t The tree.
    /// @param target A point on the cumulative weight line, below the total weight.
    /// @return position The position (members[position - 1] is the member).
    function positionAt(Tree storage t, uint256 target) internal view returns (uint256 position) {
        uint256 n = t.nodes.length;
        uint256 step = _highestPowerOfTwoAtMost(n);
        while (step != 0) {
            uint256 next = position + step;
            if (next <= n) {
                uint256 node = t.nodes[next - 1];
                if (node <= target) {
                    position = next;
                    target -= node;
                }
            }
            step >>= 1;
        }
        return position + 1;
    }

    /// @notice Sum of the weights at positions 1..position (0 for position 0).
    /// @param t The tree.
    /// @param position A position in [0, size].
    /// @return sum The prefix sum.
    function prefixSum(Tree storage t, uint256 position) internal view returns (uint256 sum) {
        return _prefixSum(t, position);
    }

    /// @notice Adds `newValue - oldValue` at `position`, walking up the Fenwick tree.
    function _update(Tree storage t, uint256 position, uint256 oldValue, uint256 newValue) private {
        if (oldValue == newValue) return;
        uint256 n = t.nodes.length;
        if (newValue > oldValue) {
            uint256 delta = newValue - oldValue;
            for (uint256 i = position; i <= n; i = _nextNode(i)) {
                t.nodes[i - 1] += delta;
            }
        } else {
            uint256 delta = oldValue - newValue;
            for (uint256 i = position; i <= n; i = _nextNode(i)) {
                t.nodes[i - 1] -= delta;
            }
        }
    }

    /// @notice Next Fenwick node whose range also covers position i: i + lowbit(i).
    function _nextNode(uint256 i) private pure returns (uint256) {
        unchecked {
            return i + (i & (0 - i)); // i >= 1 and i <= n << 2**255, so this neither wraps nor overflows
        }
    }

    /// @notice Sum of positions 1..position.
    function _prefixSum(Tree storage t, uint256 position) private view returns (uint256 sum) {
        for (uint256 i = position; i != 0; i &= i - 1) {
            sum += t.nodes[i - 1];
        }
    }

    /// @notice Sum of positions (position - lowbit(position), position - 1]: what node `position` holds beyond its
    ///         own point value.
    function _rangeSum(Tree storage t, uint256 position) private view returns (uint256 sum) {
        uint256 stop = position & (position - 1); // position - lowbit(position)
        for (uint256 i = position - 1; i > stop; i &= i - 1) {
            sum += t.nodes[i - 1];
        }
    }

    /// @notice Weight at one position: its node minus the sums of the child ranges it covers.
    function _pointValue(Tree storage t, uint256 position) private view returns (uint256) {
        return t.nodes[position - 1] - _rangeSum(t, position);
    }

    /// @notice Largest power of two <= n (0 for n == 0).
    function _highestPowerOfTwoAtMost(uint256 n) private pure returns (uint256 p) {
        if (n == 0) return 0;
        p = 1;
        while (p <= n >> 1) p <<= 1;
    }
}
