// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The subset of the Foundry/EDR cheatcodes our Solidity tests use (forge-std is not installable offline).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function assume(bool condition) external pure;
    function roll(uint256 blockNumber) external;
    function warp(uint256 timestamp) external;
    function chainId(uint256 newChainId) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address account, uint256 newBalance) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;
}

/// @notice Assertions and input shaping shared by the Solidity tests (a minimal stand-in for forge-std's Test).
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error AssertionFailed(string what, uint256 left, uint256 right);
    error AssertionFailedBool(string what);
    error UnexpectedRevert(bytes reason);
    error WrongRevert(bytes expected, bytes actual);
    error MissingRevert(bytes expected);

    function assertEq(uint256 left, uint256 right, string memory what) internal pure {
        if (left != right) revert AssertionFailed(what, left, right);
    }

    function assertLe(uint256 left, uint256 right, string memory what) internal pure {
        if (left > right) revert AssertionFailed(what, left, right);
    }

    function assertLt(uint256 left, uint256 right, string memory what) internal pure {
        if (left >= right) revert AssertionFailed(what, left, right);
    }

    function assertTrue(bool condition, string memory what) internal pure {
        if (!condition) revert AssertionFailedBool(what);
    }

    /// @dev Maps any x into [lo, hi] (inclusive) without rejecting inputs, so fuzz runs are never wasted.
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (hi < lo) revert AssertionFailed("bound: hi < lo", lo, hi);
        if (hi - lo == type(uint256).max) return x;
        return lo + (x % (hi - lo + 1));
    }

    /// @dev Deterministic pseudo-random stream from a fuzzed seed: word `i` of `seed`.
    function rand(uint256 seed, uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, i)));
    }

    /// @dev Checks that a low-level call failed with exactly `expected` (selector and arguments).
    function expectRevertData(bool ok, bytes memory actual, bytes memory expected) internal pure {
        if (ok) revert MissingRevert(expected);
        if (keccak256(actual) != keccak256(expected)) revert WrongRevert(expected, actual);
    }
}
