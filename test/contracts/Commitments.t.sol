// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Commitments} from "../../contracts/libraries/Commitments.sol";
import {TestBase} from "./helpers/TestBase.sol";

/// @notice Exposes the internal library functions as external calls.
contract CommitmentsHarness {
    function commitment(uint256 score, bytes32 salt, address validator, uint256 taskId, uint256 round, address market)
        external
        view
        returns (bytes32)
    {
        return Commitments.commitment(score, salt, validator, taskId, round, market);
    }

    function commitmentOn(
        uint256 score,
        bytes32 salt,
        address validator,
        uint256 taskId,
        uint256 round,
        uint256 chainId,
        address market
    ) external pure returns (bytes32) {
        return Commitments.commitmentOn(score, salt, validator, taskId, round, chainId, market);
    }
}

contract CommitmentsTest is TestBase {
    struct Fields {
        uint256 score;
        bytes32 salt;
        address validator;
        uint256 taskId;
        uint256 round;
        uint256 chainId;
        address market;
    }

    CommitmentsHarness internal harness;

    function setUp() public {
        harness = new CommitmentsHarness();
    }

    function _hash(Fields memory f) internal view returns (bytes32) {
        return harness.commitmentOn(f.score, f.salt, f.validator, f.taskId, f.round, f.chainId, f.market);
    }

    function testKnownVector() public view {
        // Off-chain code must produce this exact value: keccak256 of the seven 32-byte ABI words.
        Fields memory f = Fields(7500, bytes32(uint256(0xabc)), address(0xBEEF), 42, 1, 31337, address(0xCAFE));
        bytes32 expected = keccak256(
            bytes.concat(
                bytes32(uint256(7500)),
                bytes32(uint256(0xabc)),
                bytes32(uint256(uint160(0xBEEF))),
                bytes32(uint256(42)),
                bytes32(uint256(1)),
                bytes32(uint256(31337)),
                bytes32(uint256(uint160(0xCAFE)))
            )
        );
        assertTrue(_hash(f) == expected, "abi.encode layout");
    }

    function testUsesCurrentChainId() public {
        Fields memory f = Fields(1, bytes32(uint256(2)), address(3), 4, 5, block.chainid, address(6));
        assertTrue(harness.commitment(1, f.salt, f.validator, 4, 5, f.market) == _hash(f), "current chain");
        vm.chainId(block.chainid + 1);
        assertTrue(harness.commitment(1, f.salt, f.validator, 4, 5, f.market) != _hash(f), "other chain differs");
    }

    /// @dev Changing any single field changes the commitment (binding to every field).
    function testFuzzBindsEveryField(uint256 seed, uint8 field, uint256 newValue) public view {
        Fields memory f = Fields(
            bound(rand(seed, 0), 0, 10_000),
            bytes32(rand(seed, 1)),
            address(uint160(rand(seed, 2))),
            rand(seed, 3),
            rand(seed, 4) % 8,
            rand(seed, 5) % 2 == 0 ? 31337 : rand(seed, 5),
            address(uint160(rand(seed, 6)))
        );
        bytes32 original = _hash(f);
        Fields memory g = Fields(f.score, f.salt, f.validator, f.taskId, f.round, f.chainId, f.market);
        field = uint8(bound(field, 0, 6));
        if (field == 0) g.score = newValue == f.score ? f.score + 1 : newValue;
        if (field == 1) g.salt = bytes32(newValue) == f.salt ? bytes32(newValue ^ 1) : bytes32(newValue);
        if (field == 2) g.validator = address(uint160(uint160(f.validator) ^ uint160(newValue | 1)));
        if (field == 3) g.taskId = newValue == f.taskId ? newValue ^ 1 : newValue;
        if (field == 4) g.round = f.round + 1 + (newValue % 4);
        if (field == 5) g.chainId = newValue == f.chainId ? newValue ^ 1 : newValue;
        if (field == 6) g.market = address(uint160(uint160(f.market) ^ uint160(newValue | 1)));
        assertTrue(_hash(g) != original, "commitment changes with every field");
    }
}
