// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "../../contracts/interfaces/ITaskMarket.sol";
import {MarketParams} from "../../contracts/libraries/MarketParams.sol";
import {SettlementMath} from "../../contracts/SettlementMath.sol";
import {TestBase} from "./helpers/TestBase.sol";

/// @notice The market stores parameters as the two words MarketParams.pack computes and reads them back through the
///         `Params` struct: this checks both agree with the compiler's own storage layout, field by field, over
///         the whole range of every field's type (not only the bounds governance may use).
contract ParamsPackingTest is TestBase {
    ITaskMarket.Params internal stored;
    SettlementMath internal math;

    function setUp() public {
        math = new SettlementMath();
    }

    function _anyParams(uint256 seed) internal pure returns (ITaskMarket.Params memory p) {
        p.committeeSize = uint8(rand(seed, 0));
        p.maxRounds = uint8(rand(seed, 1));
        p.maxReassignments = uint8(rand(seed, 2));
        p.consensusRule = uint8(rand(seed, 3));
        p.quorumBps = uint16(rand(seed, 4));
        p.trimBps = uint16(rand(seed, 5));
        p.validatorPoolBps = uint16(rand(seed, 6));
        p.providerFloor = uint16(rand(seed, 7));
        p.tolerance = uint16(rand(seed, 8));
        p.refundBps = uint16(rand(seed, 9));
        p.nonRevealPenaltyBps = uint32(rand(seed, 10));
        p.providerTimeoutPenaltyBps = uint32(rand(seed, 11));
        p.equivocationSlashBps = uint16(rand(seed, 12));
        p.reporterBountyBps = uint16(rand(seed, 13));
        p.answerWindow = uint32(rand(seed, 14));
        p.commitWindow = uint32(rand(seed, 15));
        p.revealWindow = uint32(rand(seed, 16));
        p.drawWindow = uint32(rand(seed, 17));
        p.maxPromptBytes = uint32(rand(seed, 18));
        p.maxOutputBytes = uint32(rand(seed, 19));
        p.minFee = uint96(rand(seed, 20));
    }

    function _write(uint256 word0, uint256 word1) internal {
        ITaskMarket.Params storage p = stored;
        assembly ("memory-safe") {
            sstore(p.slot, word0)
            sstore(add(p.slot, 1), word1)
        }
    }

    /// @dev The words, written raw, read back through the struct as the value packed: the layout is the compiler's.
    function testFuzz_packMatchesStorageLayout(uint256 seed) public {
        ITaskMarket.Params memory p = _anyParams(seed);
        (uint256 word0, uint256 word1) = MarketParams.pack(p);
        _write(word0, word1);
        assertEq(keccak256(abi.encode(stored)) == keccak256(abi.encode(p)) ? 1 : 0, 1, "struct read back");
        // And the other way round: the compiler's own write of the struct gives the same two words.
        stored = p;
        ITaskMarket.Params storage s = stored;
        uint256 compiled0;
        uint256 compiled1;
        assembly ("memory-safe") {
            compiled0 := sload(s.slot)
            compiled1 := sload(add(s.slot, 1))
        }
        assertEq(compiled0, word0, "word 0");
        assertEq(compiled1, word1, "word 1");
    }

    /// @dev checkParams of the defaults: the lifetime, and words that read back as the defaults.
    function test_checkParamsPacksDefaults() public {
        ITaskMarket.Params memory p = MarketParams.defaults();
        (uint256 lifetime, uint256 word0, uint256 word1) = math.checkParams(p);
        assertEq(lifetime, MarketParams.maxTaskLifetime(p), "lifetime");
        _write(word0, word1);
        assertEq(keccak256(abi.encode(stored)) == keccak256(abi.encode(p)) ? 1 : 0, 1, "defaults read back");
    }

    /// @dev A field outside its type (dirty high bits in its word) is refused: the market logs the calldata it
    ///      forwarded to checkParams as ParamsSet's data, which is canonical whenever checkParams returned.
    function test_checkParamsRefusesDirtyEncoding() public {
        bytes memory call = abi.encodeCall(SettlementMath.checkParams, (MarketParams.defaults()));
        (bool ok,) = address(math).call(call);
        assertTrue(ok, "clean encoding refused");
        for (uint256 field; field < 21; ++field) {
            bytes memory dirty = bytes.concat(call); // a copy
            assembly ("memory-safe") {
                let word := add(add(dirty, 36), mul(field, 32)) // after the length and the selector
                mstore(word, not(0))
            }
            (ok,) = address(math).call(dirty);
            assertTrue(!ok, "dirty field accepted");
        }
    }
}
