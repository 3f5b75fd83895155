// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EvaluatorRegistry} from "../../../contracts/EvaluatorRegistry.sol";
import {SettlementMath} from "../../../contracts/SettlementMath.sol";
import {StakeRegistry} from "../../../contracts/StakeRegistry.sol";
import {TaskMarket} from "../../../contracts/TaskMarket.sol";
import {MarketParams} from "../../../contracts/libraries/MarketParams.sol";

/// @notice The protocol as the Solidity tests deploy it.
library DeployProtocol {
    /// @notice A stake registry (minimum stake `minStake` for both roles, unstake cooldown `cooldown` blocks), an
    ///         evaluator registry with `evaluatorId` registered, and the market with the default parameters, wired
    ///         together. Internal: it runs in the calling test contract, which owns all three.
    function deploy(address stakeToken, uint256 minStake, uint256 cooldown, bytes32 evaluatorId, address treasury)
        internal
        returns (StakeRegistry registry, TaskMarket market)
    {
        registry = new StakeRegistry(stakeToken, address(this), minStake, minStake, cooldown);
        EvaluatorRegistry evaluators = new EvaluatorRegistry(address(this));
        evaluators.register(evaluatorId, "ipfs://evaluator");
        market = new TaskMarket(
            stakeToken,
            address(registry),
            address(evaluators),
            address(new SettlementMath()),
            address(this),
            treasury,
            MarketParams.defaults()
        );
        registry.setTaskMarket(address(market));
    }
}
