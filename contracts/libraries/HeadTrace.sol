// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title HeadTrace
/// @notice A value's history by block number (OpenZeppelin Checkpoints.Trace208) with its latest checkpoint kept
/// apart in a slot of its own. Why: a draw reads the sortition tree at a block after the nodes' last change almost
/// always, and a Trace208 answers that with two storage reads (the array's length, then its last element); the
/// head answers it with one. Every draw reads a dozen or more nodes cold, so this is a 2,100 gas read per node.
/// @dev The head packs key << 208 | value; zero means "no checkpoint", which reads as 0 at every key, as a
///      Trace208 without checkpoints does. `older` holds every earlier checkpoint, all with keys below the head's.
///      A change in a new block moves the head into `older` (one more slot written than a bare Trace208: stake
///      changes pay it, draws do not).
library HeadTrace {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice A history. Use only through this library.
    struct Trace {
        uint256 head;
        Checkpoints.Trace208 older;
    }

    /// @notice Sets the value from block `key` on (keys never decrease; the same key overwrites).
    function push(Trace storage self, uint48 key, uint208 value) internal {
        uint256 head = self.head;
        uint48 headKey = uint48(head >> 208);
        if (head != 0 && key != headKey) {
            if (key < headKey) revert Checkpoints.CheckpointUnorderedInsertion();
            self.older.push(headKey, uint208(head));
        }
        self.head = (uint256(key) << 208) | value;
    }

    /// @notice The value now (0 without checkpoints).
    function latest(Trace storage self) internal view returns (uint208) {
        return uint208(self.head);
    }

    /// @notice The value at the end of block `key` (0 before the first checkpoint).
    function valueAt(Trace storage self, uint48 key) internal view returns (uint256) {
        uint256 head = self.head;
        if (uint48(head >> 208) <= key) return uint208(head);
        return self.older.upperLookupRecent(key);
    }
}
