// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SortitionTree} from "./SortitionTree.sol";

/// @title CommitteeDraw
/// @notice Stake-weighted sampling of k distinct members WITHOUT replacement from a SortitionTree, excluding one
/// address, reading storage only: O(k log n) storage reads plus O(k^2) memory work, exactly k samples, and it never
/// fails when at least k eligible members exist (rejection sampling would: drawing 15 of 15 needs ~50 tries).
/// @dev Each member owns the interval [prefix(p - 1), prefix(p)) of the cumulative weight line. After drawing, its
/// interval is removed: the next target is drawn uniformly from the remaining weight and mapped back to the full
/// line by stepping over the removed intervals in ascending order. The chance of each remaining member is thus its
/// weight divided by the remaining weight, as in sequential draws without replacement.
library CommitteeDraw {
    /// @dev Intervals already taken out of the weight line, sorted by start, and the weight still in it.
    struct Removed {
        uint256[] starts;
        uint256[] widths;
        uint256 count;
        uint256 remaining;
    }

    /// @notice Draws `k` distinct members, never `exclude`, over the pool as it was at the end of `blockNumber`.
    /// @param t The sortition tree.
    /// @param seed Randomness; sample j uses keccak256(abi.encode(seed, j)).
    /// @param k Number of members.
    /// @param exclude An address that must not be drawn (ignored when not a member).
    /// @param blockNumber The pool snapshot: a block whose state was final before `seed` could be known.
    /// @return members The members in draw order, or an empty array when fewer than k members are eligible.
    function drawDistinct(SortitionTree.Tree storage t, uint256 seed, uint256 k, address exclude, uint256 blockNumber)
        internal
        view
        returns (address[] memory members)
    {
        uint256 n = SortitionTree.lengthAt(t, blockNumber);
        uint256 eligible = SortitionTree.sizeAt(t, blockNumber);
        // The zero address is never a member (SortitionTree.set refuses it): no read for "exclude nobody".
        uint256 excludedPosition = exclude == address(0) ? 0 : t.indexOf[exclude];
        uint256 excludedWeight =
            excludedPosition == 0 || excludedPosition > n ? 0 : SortitionTree.weightAt(t, exclude, blockNumber);
        if (excludedWeight == 0) excludedPosition = 0;
        if (k == 0 || eligible - (excludedPosition == 0 ? 0 : 1) < k) return new address[](0);
        // Removed intervals, kept sorted by start: at most k drawn members plus the excluded one.
        Removed memory r =
            Removed(new uint256[](k + 1), new uint256[](k + 1), 0, SortitionTree.prefixSumAt(t, n, blockNumber));
        if (excludedPosition != 0) {
            _remove(r, SortitionTree.prefixSumAt(t, excludedPosition - 1, blockNumber), excludedWeight);
        }
        members = new address[](k);
        for (uint256 j; j < k; ++j) {
            members[j] = _drawOne(t, r, uint256(keccak256(abi.encode(seed, j))), n, blockNumber);
        }
    }

    /// @dev Maps `random` onto the weight still in the line and takes the member it lands on out of it.
    function _drawOne(SortitionTree.Tree storage t, Removed memory r, uint256 random, uint256 n, uint256 blockNumber)
        private
        view
        returns (address member)
    {
        // r.remaining > 0: at least one member with a positive weight is left.
        // Modulo bias is below remaining / 2**256: negligible for any real stake total.
        uint256 target = random % r.remaining;
        for (uint256 i; i < r.count; ++i) {
            if (target >= r.starts[i]) target += r.widths[i];
        }
        (uint256 position, uint256 start) = SortitionTree.positionAt(t, target, n, blockNumber);
        _remove(r, start, SortitionTree.weightAtPosition(t, position, blockNumber));
        return t.memberAt[position];
    }

    /// @dev Takes a member's interval [start, start + width) out of the line (insertion into the sorted list).
    function _remove(Removed memory r, uint256 start, uint256 width) private pure {
        r.remaining -= width;
        uint256 i = r.count;
        while (i != 0 && r.starts[i - 1] > start) {
            r.starts[i] = r.starts[i - 1];
            r.widths[i] = r.widths[i - 1];
            --i;
        }
        r.starts[i] = start;
        r.widths[i] = width;
        ++r.count;
    }
}
