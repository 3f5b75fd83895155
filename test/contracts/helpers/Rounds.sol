// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "../../../contracts/interfaces/ITaskMarket.sol";
import {Vm} from "./TestBase.sol";
import {MarketSigner} from "./MarketSigner.sol";

/// @notice What a client of the round calls needs in a test: the committee from CommitteeDrawn (members are not
///         in the market's storage), round states, and the round hash rebuilt from the specification.
abstract contract Rounds is MarketSigner {
    /// @dev Draws the committee of `taskId` and returns its members, read from the CommitteeDrawn log as a client
    ///      would (empty when the draw reseeded or settled the task instead).
    function _drawMembers(ITaskMarket market, uint256 taskId) internal returns (address[] memory members) {
        vm.recordLogs();
        market.drawCommittee(taskId);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(market) || logs[i].topics[0] != ITaskMarket.CommitteeDrawn.selector) continue;
            (, members,,) = abi.decode(logs[i].data, (uint256, address[], uint256, uint256));
        }
    }

    /// @dev The state of a round before its commit report.
    function _drawState(address[] memory members) internal pure returns (ITaskMarket.RoundState memory state) {
        state.members = members;
    }

    /// @dev docs/design/ROUNDS.md: keccak256(abi.encode(keccak256(abi.encode(members)), reportMask,
    ///      keccak256(abi.encode(reportCommitments)))).
    function _roundHash(ITaskMarket.RoundState memory state) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256(abi.encode(state.members)), state.reportMask, keccak256(abi.encode(state.reportCommitments))
            )
        );
    }
}
