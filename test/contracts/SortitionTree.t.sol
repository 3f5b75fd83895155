// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CommitteeDraw} from "../../contracts/libraries/CommitteeDraw.sol";
import {SortitionTree} from "../../contracts/libraries/SortitionTree.sol";
import {TestBase} from "./helpers/TestBase.sol";

/// @notice Holds one tree in storage and exposes the library through external calls.
contract SortitionTreeHarness {
    using SortitionTree for SortitionTree.Tree;

    SortitionTree.Tree internal tree;

    function set(address member, uint256 weight) external {
        tree.set(member, weight);
    }

    function total() external view returns (uint256) {
        return tree.total();
    }

    function weightOf(address member) external view returns (uint256) {
        return tree.weightOf(member);
    }

    function size() external view returns (uint256) {
        return tree.size();
    }

    function length() external view returns (uint256) {
        return tree.lengthAt(block.number);
    }

    function memberAt(uint256 index) external view returns (address) {
        return tree.memberAt[index + 1];
    }

    function totalAt(uint256 blockNumber) external view returns (uint256) {
        return tree.totalAt(blockNumber);
    }

    function weightAt(address member, uint256 blockNumber) external view returns (uint256) {
        return tree.weightAt(member, blockNumber);
    }

    function sizeAt(uint256 blockNumber) external view returns (uint256) {
        return tree.sizeAt(blockNumber);
    }

    function drawAt(uint256 seed, uint256 k, uint256 blockNumber) external view returns (address[] memory) {
        return CommitteeDraw.drawDistinct(tree, seed, k, address(0), blockNumber);
    }

    function draw(uint256 random) external view returns (address) {
        return tree.draw(random);
    }

    /// @dev Gas of one draw, measured inside the call. In a Solidity test every call shares one transaction, so the
    ///      slots are warm here; the ratio between tree sizes is what the test checks.
    function drawGas(uint256 random) external view returns (uint256 used) {
        uint256 before = gasleft();
        tree.draw(random);
        used = before - gasleft();
    }
}

contract SortitionTreeTest is TestBase {
    SortitionTreeHarness internal harness;

    function setUp() public {
        harness = new SortitionTreeHarness();
    }

    function _actor(uint256 i) internal pure returns (address) {
        return address(uint160(0x1000 + i));
    }

    /// @dev The draw every implementation must agree with: a linear scan over positions in member order.
    function _linearDraw(uint256 random) internal view returns (address) {
        uint256 target = random % harness.total();
        uint256 n = harness.length();
        for (uint256 i; i < n; ++i) {
            address m = harness.memberAt(i);
            uint256 w = harness.weightOf(m);
            if (target < w) return m;
            target -= w;
        }
        revert AssertionFailedBool("linear draw ran off the end");
    }

    function testInsertUpdateRemove() public {
        harness.set(_actor(1), 10);
        harness.set(_actor(2), 20);
        harness.set(_actor(3), 30);
        assertEq(harness.total(), 60, "total");
        harness.set(_actor(2), 5);
        assertEq(harness.weightOf(_actor(2)), 5, "updated");
        assertEq(harness.total(), 45, "total after update");
        harness.set(_actor(1), 0); // actor 1 keeps its position at weight 0
        assertEq(harness.size(), 2, "size after removal");
        assertEq(harness.weightOf(_actor(1)), 0, "removed");
        assertEq(harness.weightOf(_actor(3)), 30, "moved member keeps weight");
        assertEq(harness.total(), 35, "total after removal");
        harness.set(_actor(9), 0); // removing a non-member is a no-op
        assertEq(harness.size(), 2, "no-op removal");
    }

    /// @dev The grinding attack of issue 10 (finding 2): after the seed is known, a validator tops up by 1 wei or
    ///      requests an unstake and cancels to re-roll the draw. A draw over the snapshot of an earlier block sees
    ///      none of it: the same seed draws the same committee before and after every such change.
    function testSnapshotDrawIgnoresLaterChanges() public {
        for (uint256 i; i < 10; ++i) harness.set(_actor(i), 100e18 + i);
        uint256 snapshot = block.number;
        vm.roll(block.number + 1);
        address[] memory before = harness.drawAt(42, 5, snapshot);
        uint256 totalBefore = harness.totalAt(snapshot);
        // Everything a grinder can do after the seed block: top up, leave, rejoin, join with a new key.
        harness.set(_actor(3), 100e18 + 3 + 1);
        harness.set(_actor(4), 0);
        harness.set(_actor(4), 100e18 + 4);
        harness.set(_actor(5), 0);
        harness.set(_actor(77), 500e18);
        vm.roll(block.number + 1);
        harness.set(_actor(6), 1);
        vm.roll(block.number + 1);
        address[] memory afterwards = harness.drawAt(42, 5, snapshot);
        for (uint256 i; i < 5; ++i) assertTrue(before[i] == afterwards[i], "same committee");
        assertEq(harness.totalAt(snapshot), totalBefore, "total at the snapshot");
        assertEq(harness.weightAt(_actor(77), snapshot), 0, "a later joiner is not in the snapshot");
        assertEq(harness.weightAt(_actor(5), snapshot), 100e18 + 5, "a later leaver is");
        assertEq(harness.sizeAt(snapshot), 10, "size at the snapshot");
        assertEq(harness.size(), 10, "size now (5 left, 77 joined)");
    }

    /// @dev Random histories over 12 actors and 16 blocks: every block's total, size, weights and a k = 3 draw
    ///      read later at that block equal what they were when the block was current.
    function testFuzzHistoryMatchesPastState(uint256 seed) public {
        uint256 blocks = 16;
        uint256[] memory totals = new uint256[](blocks);
        uint256[] memory sizes = new uint256[](blocks);
        bytes32[] memory draws = new bytes32[](blocks);
        uint256 start = block.number;
        for (uint256 b; b < blocks; ++b) {
            uint256 changes = rand(seed, b) % 4;
            for (uint256 c; c < changes; ++c) {
                uint256 r = rand(seed, 100 * b + c);
                harness.set(_actor(r % 12), (r >> 8) % 3 == 0 ? 0 : bound(r >> 16, 1, 1e24));
            }
            totals[b] = harness.total();
            sizes[b] = harness.size();
            if (sizes[b] >= 3) draws[b] = keccak256(abi.encode(harness.drawAt(seed, 3, block.number)));
            vm.roll(block.number + 1);
        }
        for (uint256 b; b < blocks; ++b) {
            assertEq(harness.totalAt(start + b), totals[b], "total at block");
            assertEq(harness.sizeAt(start + b), sizes[b], "size at block");
            if (sizes[b] >= 3) {
                assertTrue(keccak256(abi.encode(harness.drawAt(seed, 3, start + b))) == draws[b], "draw at block");
            }
        }
    }

    function testDrawBoundaries() public {
        harness.set(_actor(1), 1);
        harness.set(_actor(2), 3);
        // Intervals: actor1 = [0, 1), actor2 = [1, 4).
        assertTrue(harness.draw(0) == _actor(1), "0 -> first");
        assertTrue(harness.draw(1) == _actor(2), "1 -> second");
        assertTrue(harness.draw(3) == _actor(2), "3 -> second");
        assertTrue(harness.draw(4) == _actor(1), "wraps modulo total");
    }

    function testErrors() public {
        (bool ok, bytes memory ret) = address(harness).staticcall(abi.encodeCall(SortitionTreeHarness.draw, (1)));
        expectRevertData(ok, ret, abi.encodeWithSelector(SortitionTree.EmptyTree.selector));
        (ok, ret) = address(harness).call(abi.encodeCall(SortitionTreeHarness.set, (address(0), 1)));
        expectRevertData(ok, ret, abi.encodeWithSelector(SortitionTree.ZeroAddressMember.selector));
        harness.set(_actor(1), 5);
        harness.set(_actor(1), 0);
        (ok, ret) = address(harness).staticcall(abi.encodeCall(SortitionTreeHarness.draw, (1)));
        expectRevertData(ok, ret, abi.encodeWithSelector(SortitionTree.EmptyTree.selector));
    }

    function testDistributionFollowsWeights() public {
        uint256[5] memory weights = [uint256(1), 2, 3, 4, 10];
        for (uint256 i; i < 5; ++i) harness.set(_actor(i), weights[i] * 1e18);
        uint256 draws = 4000;
        uint256[5] memory counts;
        for (uint256 d; d < draws; ++d) {
            address m = harness.draw(uint256(keccak256(abi.encode("draw", d))));
            counts[uint160(m) - 0x1000] += 1;
        }
        for (uint256 i; i < 5; ++i) {
            uint256 expected = (draws * weights[i]) / 20;
            // Binomial std <= sqrt(expected); allow 5 standard deviations (sqrt(2000) < 45 -> 5 * 45).
            uint256 diff = counts[i] > expected ? counts[i] - expected : expected - counts[i];
            assertLe(diff * diff, 25 * expected, "count within 5 sigma of weight share");
        }
    }

    function testDrawGasIsLogarithmic() public {
        for (uint256 i; i < 128; ++i) harness.set(_actor(i), 1e18 + i);
        uint256 small = harness.drawGas(12345);
        for (uint256 i = 128; i < 1024; ++i) harness.set(_actor(i), 1e18 + i);
        uint256 large = harness.drawGas(12345);
        // 8x the members adds 3 levels to the descent: far below 2x the gas (a linear scan would be 8x).
        assertLt(large, small * 2, "draw gas grows like log n");
    }

    /// hardhat-config: default.fuzz.runs = 5000
    /// @dev Random sequences of insert/update/remove over 24 actors, checked against a plain reference model:
    ///      the touched weight and the total after every step, every weight and a draw (against the linear-scan
    ///      draw) every 8th step and at the end.
    function testFuzzMatchesReferenceModel(uint256 seed) public {
        uint256 actors = 24;
        uint256[] memory expected = new uint256[](actors);
        uint256 steps = bound(seed, 1, 48);
        uint256 sum;
        for (uint256 s; s < steps; ++s) {
            uint256 r = rand(seed, s);
            uint256 who = r % actors;
            uint256 kind = (r >> 8) % 4; // 1 in 4 removes, the rest insert or update
            uint256 weight = kind == 0 ? 0 : bound(r >> 16, 1, (r >> 128) % 2 == 0 ? 100 : 1e30);
            harness.set(_actor(who), weight);
            sum = sum - expected[who] + weight;
            expected[who] = weight;
            assertEq(harness.weightOf(_actor(who)), weight, "weightOf touched");
            assertEq(harness.total(), sum, "total");
            if (s % 8 == 7 || s == steps - 1) _checkFullModel(expected, sum, rand(seed, 1000 + s));
        }
    }

    function _checkFullModel(uint256[] memory expected, uint256 sum, uint256 random) internal view {
        uint256 members;
        for (uint256 i; i < expected.length; ++i) {
            assertEq(harness.weightOf(_actor(i)), expected[i], "weightOf");
            if (expected[i] != 0) ++members;
        }
        assertEq(harness.size(), members, "size");
        if (sum != 0) assertTrue(harness.draw(random) == _linearDraw(random), "Fenwick descent == linear scan");
    }
}
