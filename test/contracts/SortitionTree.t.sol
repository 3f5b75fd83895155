// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

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

    function memberAt(uint256 index) external view returns (address) {
        return tree.members[index];
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
        uint256 n = harness.size();
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
        harness.set(_actor(1), 0); // removal moves actor 3 into position 1
        assertEq(harness.size(), 2, "size after removal");
        assertEq(harness.weightOf(_actor(1)), 0, "removed");
        assertEq(harness.weightOf(_actor(3)), 30, "moved member keeps weight");
        assertEq(harness.total(), 35, "total after removal");
        harness.set(_actor(9), 0); // removing a non-member is a no-op
        assertEq(harness.size(), 2, "no-op removal");
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
