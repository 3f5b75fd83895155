// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {StakeRegistry} from "../../contracts/StakeRegistry.sol";
import {EvaluatorRegistry} from "../../contracts/EvaluatorRegistry.sol";
import {SettlementMath} from "../../contracts/SettlementMath.sol";
import {TaskMarket} from "../../contracts/TaskMarket.sol";
import {MarketParams} from "../../contracts/libraries/MarketParams.sol";
import {IStakeRegistry} from "../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../contracts/interfaces/ITaskMarket.sol";
import {ITaskMarketClient} from "../../contracts/interfaces/ITaskMarketClient.sol";
import {TestBase} from "./helpers/TestBase.sol";

/// @notice A market whose pair numbers can be used up without creating 65,535 pairs first.
contract TaskMarketPairsHarness is TaskMarket {
    constructor(address token, address registry, address evaluators, address settlement)
        TaskMarket(token, registry, evaluators, settlement, msg.sender, address(0x7EA5), MarketParams.defaults())
    {}

    function usePairNumbersUpTo(uint256 count) external {
        _pairCount = count;
    }

    function pairOf(uint256 taskId) external view returns (uint256) {
        return _tasks[taskId].pair;
    }
}

/// @notice A task keeps the number of its (model, evaluator) pair instead of both ids (TaskStorage._pairNumber):
/// every task of a pair reads the same ids, different pairs never mix, and once the numbers are used up (anyone can
/// make pairs) tasks store their ids in full and work as before.
contract TaskPairsTest is TestBase {
    bytes32 internal constant MODEL_A = keccak256("model/a");
    bytes32 internal constant MODEL_B = keccak256("model/b");
    bytes32 internal constant EVALUATOR_X = keccak256("evaluator/x");
    bytes32 internal constant EVALUATOR_Y = keccak256("evaluator/y");
    uint256 internal constant STAKE = 100e18;
    uint256 internal constant FEE = 1e18;

    MockERC20 internal token;
    StakeRegistry internal registry;
    TaskMarketPairsHarness internal harness;
    ITaskMarketClient internal market;
    address internal providerA = address(0xA000);
    address internal providerB = address(0xB000);

    function setUp() public {
        token = new MockERC20("Test", "TST");
        registry = new StakeRegistry(address(token), address(this), STAKE, STAKE, 400);
        EvaluatorRegistry evaluators = new EvaluatorRegistry(address(this));
        evaluators.register(EVALUATOR_X, "ipfs://x");
        evaluators.register(EVALUATOR_Y, "ipfs://y");
        harness = new TaskMarketPairsHarness(address(token), address(registry), address(evaluators), address(new SettlementMath()));
        market = ITaskMarketClient(address(harness));
        registry.setTaskMarket(address(market));
        _stakeProvider(providerA, MODEL_A);
        _stakeProvider(providerB, MODEL_B);
        token.mint(address(this), 100 * FEE);
        token.approve(address(market), type(uint256).max);
        vm.roll(block.number + 1);
    }

    function testTasksOfAPairShareItsNumberAndReadTheirIds() public {
        uint256 ax1 = market.createTask(MODEL_A, EVALUATOR_X, FEE, "p");
        uint256 bx = market.createTask(MODEL_B, EVALUATOR_X, FEE, "p");
        uint256 ay = market.createTask(MODEL_A, EVALUATOR_Y, FEE, "p");
        uint256 ax2 = market.createTask(MODEL_A, EVALUATOR_X, FEE, "p");
        assertEq(harness.pairOf(ax1), 1, "first pair");
        assertEq(harness.pairOf(bx), 2, "another model");
        assertEq(harness.pairOf(ay), 3, "another evaluator");
        assertEq(harness.pairOf(ax2), 1, "the first pair again");
        _assertIds(ax1, MODEL_A, EVALUATOR_X, providerA);
        _assertIds(bx, MODEL_B, EVALUATOR_X, providerB);
        _assertIds(ay, MODEL_A, EVALUATOR_Y, providerA);
        _assertIds(ax2, MODEL_A, EVALUATOR_X, providerA);
    }

    function testUsedUpNumbersStoreTheIdsInFull() public {
        uint256 before = market.createTask(MODEL_A, EVALUATOR_X, FEE, "p"); // pair 1, made before the numbers ran out
        harness.usePairNumbersUpTo(type(uint16).max);
        uint256 known = market.createTask(MODEL_A, EVALUATOR_X, FEE, "p");
        uint256 unnumbered = market.createTask(MODEL_B, EVALUATOR_Y, FEE, "p");
        assertEq(harness.pairOf(known), 1, "a numbered pair keeps its number");
        assertEq(harness.pairOf(unnumbered), 0, "no number left");
        _assertIds(before, MODEL_A, EVALUATOR_X, providerA);
        _assertIds(known, MODEL_A, EVALUATOR_X, providerA);
        _assertIds(unnumbered, MODEL_B, EVALUATOR_Y, providerB);
    }

    /// @dev Views read the ids through the pair, and so does the provider draw (only the model's provider can be
    /// drawn, and it is the one that gets locked).
    function _assertIds(uint256 taskId, bytes32 model, bytes32 evaluator, address provider) private {
        ITaskMarket.TaskView memory t = market.task(taskId);
        assertEq(uint256(t.modelId), uint256(model), "model id");
        assertEq(uint256(t.evaluatorId), uint256(evaluator), "evaluator id");
        vm.roll(t.seedBlock + 1);
        uint256 locks = registry.stakeInfo(provider).locks;
        market.assignProvider(taskId);
        assertEq(uint256(uint160(market.task(taskId).provider)), uint256(uint160(provider)), "drawn from the model's pool");
        assertEq(registry.stakeInfo(provider).locks, locks + 1, "the model's provider is locked");
    }

    function _stakeProvider(address provider, bytes32 model) private {
        token.mint(provider, STAKE);
        vm.prank(provider);
        token.approve(address(registry), STAKE);
        vm.prank(provider);
        registry.stake(IStakeRegistry.Role.Provider, STAKE);
        vm.prank(provider);
        registry.registerModel(model);
    }
}
