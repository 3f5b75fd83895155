// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title HeadTrace
/// @notice A value's history by block number whose latest checkpoint, and the number of earlier ones, share one slot.
/// Why not OpenZeppelin Checkpoints: a Trace208 keeps its length in a slot of its own, so reading the value at a
/// block after the last change (what a draw does almost always) takes two storage reads, the length and then the
/// last element, and every sortition node a draw touches is read cold. Here that read is the head alone, and a change
/// in a new block writes one new slot (the old head, into the history) and rewrites the head, as a Trace208 writes
/// one element and rewrites its length.
/// @dev The head packs key << 208 | count << 160 | value: the latest checkpoint and how many came before it; zero
///      means "no checkpoint", which reads as 0 at every key. Earlier checkpoints are `older[0 .. count)`, each
///      key << 160 | value, keys strictly ascending and below the head's. Keys are block numbers (48 bits); values
///      fit 160 bits (the sortition tree's sums of fewer than 2**32 stakes of at most 2**128 each).
library HeadTrace {
    /// @notice A history. Use only through this library.
    struct Trace {
        uint256 head;
        mapping(uint256 index => uint256 checkpoint) older;
    }

    /// @notice Thrown when a key below the latest one is pushed.
    error UnorderedKey(uint256 key, uint256 latestKey);

    uint256 private constant _KEY_SHIFT = 208;
    uint256 private constant _COUNT_SHIFT = 160;
    uint256 private constant _COUNT_MASK = type(uint48).max;

    /// @notice Sets the value from block `key` on (keys never decrease; the same key overwrites).
    function push(Trace storage self, uint48 key, uint160 value) internal {
        uint256 head = self.head;
        uint256 headKey = head >> _KEY_SHIFT;
        uint256 count = (head >> _COUNT_SHIFT) & _COUNT_MASK;
        if (head != 0 && key != headKey) {
            if (key < headKey) revert UnorderedKey(key, headKey);
            self.older[count] = (headKey << _COUNT_SHIFT) | uint160(head);
            ++count;
        }
        self.head = (uint256(key) << _KEY_SHIFT) | (count << _COUNT_SHIFT) | value;
    }

    /// @notice The value now (0 without checkpoints).
    function latest(Trace storage self) internal view returns (uint160) {
        return uint160(self.head);
    }

    /// @notice The value at the end of block `key` (0 before the first checkpoint).
    function valueAt(Trace storage self, uint48 key) internal view returns (uint256) {
        uint256 head = self.head;
        if (head >> _KEY_SHIFT <= key) return uint160(head);
        uint256 high = (head >> _COUNT_SHIFT) & _COUNT_MASK;
        if (high == 0) return 0;
        // The next most common case: one change since `key` (the checkpoint before the head is the one).
        uint256 last = self.older[high - 1];
        if (last >> _COUNT_SHIFT <= key) return uint160(last);
        // Binary search for the last checkpoint with a key <= `key` among older[0 .. high - 1).
        uint256 low;
        --high;
        while (low < high) {
            uint256 mid = (low + high) >> 1;
            if (self.older[mid] >> _COUNT_SHIFT > key) high = mid;
            else low = mid + 1;
        }
        return high == 0 ? 0 : uint160(self.older[high - 1]);
    }
}
