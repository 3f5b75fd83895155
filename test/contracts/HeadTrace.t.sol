// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HeadTrace} from "../../contracts/libraries/HeadTrace.sol";
import {TestBase} from "./helpers/TestBase.sol";

contract HeadTraceHarness {
    using HeadTrace for HeadTrace.Trace;

    HeadTrace.Trace internal trace;

    function push(uint48 key, uint160 value) external {
        trace.push(key, value);
    }

    function latest() external view returns (uint256) {
        return trace.latest();
    }

    function valueAt(uint48 key) external view returns (uint256) {
        return trace.valueAt(key);
    }
}

/// @notice HeadTrace against a plain list of (key, value): the value at every key, through the head, the checkpoint
/// before it and the binary search over the rest.
contract HeadTraceTest is TestBase {
    HeadTraceHarness internal harness;

    function setUp() public {
        harness = new HeadTraceHarness();
    }

    function testFuzzMatchesAListOfCheckpoints(uint256 seed) public {
        uint256 pushes = 1 + (rand(seed, 0) % 40);
        uint48[] memory keys = new uint48[](pushes);
        uint160[] memory values = new uint160[](pushes);
        uint48 key = uint48(rand(seed, 1) % 3); // may start at key 0
        for (uint256 i; i < pushes; ++i) {
            key += uint48(rand(seed, 2 + 2 * i) % 3); // the same key again (an overwrite) a third of the time
            uint160 value = uint160(rand(seed, 3 + 2 * i) % 4 == 0 ? 0 : rand(seed, 3 + 2 * i));
            harness.push(key, value);
            keys[i] = key;
            values[i] = value;
        }
        for (uint48 k; k <= key + 1; ++k) {
            assertEq(harness.valueAt(k), _expected(keys, values, k), "value at key");
        }
        assertEq(harness.latest(), values[pushes - 1], "latest");
    }

    function testEmptyAndOrder() public {
        assertEq(harness.valueAt(0), 0, "empty");
        assertEq(harness.latest(), 0, "empty latest");
        harness.push(5, 7);
        assertEq(harness.valueAt(4), 0, "before the first checkpoint");
        assertEq(harness.valueAt(5), 7, "at it");
        (bool ok, bytes memory ret) = address(harness).call(abi.encodeCall(HeadTraceHarness.push, (4, 1)));
        expectRevertData(ok, ret, abi.encodeWithSelector(HeadTrace.UnorderedKey.selector, 4, 5));
    }

    /// @dev The value of the last push with a key <= k (later pushes of the same key win), 0 before any.
    function _expected(uint48[] memory keys, uint160[] memory values, uint48 k) private pure returns (uint256 value) {
        for (uint256 i; i < keys.length && keys[i] <= k; ++i) {
            value = values[i];
        }
    }
}
