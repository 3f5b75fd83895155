// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {StakeRegistry} from "../../contracts/StakeRegistry.sol";
import {TaskMarket} from "../../contracts/TaskMarket.sol";
import {TestBase} from "./helpers/TestBase.sol";
import {MarketParams} from "../../contracts/libraries/MarketParams.sol";
import {IStakeRegistry} from "../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../contracts/interfaces/ITaskMarket.sol";
import {ITaskViews} from "../../contracts/interfaces/ITaskViews.sol";
import {DeployProtocol} from "./helpers/DeployProtocol.sol";

/// @notice The views module behind the market's fallback (docs/PROTOCOL.md, contracts table): it answers in the
///         market's storage when reached through the market, in its own empty storage when called at its address,
///         and the fallback takes no value and serves nothing the module does not implement.
contract TaskViewsTest is TestBase {
    bytes32 internal constant MODEL = keccak256("model/test-llm");
    bytes32 internal constant EVALUATOR = keccak256("evaluator/test");
    address internal constant PROVIDER = address(0xA000);
    uint256 internal constant STAKE = 100e18;
    uint256 internal constant FEE = 100e18;

    MockERC20 internal token;
    TaskMarket internal market;
    uint256 internal taskId;

    function setUp() public {
        token = new MockERC20("Stake", "STK");
        StakeRegistry registry;
        (registry, market) = DeployProtocol.deploy(address(token), STAKE, 400, EVALUATOR, address(0x7EA5));
        token.mint(PROVIDER, STAKE);
        vm.startPrank(PROVIDER);
        token.approve(address(registry), STAKE);
        registry.stake(IStakeRegistry.Role.Provider, STAKE);
        registry.registerModel(MODEL);
        vm.stopPrank();
        vm.roll(block.number + 1);
        token.mint(address(this), FEE);
        token.approve(address(market), FEE);
        taskId = ITaskMarket(address(market)).createTask(MODEL, EVALUATOR, FEE, "prompt");
    }

    function testViewsThroughTheMarketReadTheMarketsStorage() public view {
        ITaskMarket.TaskView memory t = ITaskViews(address(market)).task(taskId);
        assertTrue(t.status == ITaskMarket.Status.Assigned, "the task through the market");
        assertEq(t.fee, FEE, "its fee");
        assertEq(ITaskViews(address(market)).params().committeeSize, MarketParams.defaults().committeeSize, "params");
    }

    /// @notice The task count and the parameter version share a storage slot: writing one keeps the other, and a
    ///         task keeps the version it was created under.
    function testTaskCountAndParamsVersionShareASlotWithoutClobbering() public {
        ITaskViews views = ITaskViews(address(market));
        assertEq(views.taskCount(), 1, "one task");
        assertEq(views.paramsVersion(), 0, "the constructor's parameters");
        market.setParams(MarketParams.defaults());
        assertEq(views.paramsVersion(), 1, "setParams appends a version");
        assertEq(views.taskCount(), 1, "and leaves the count");
        token.mint(address(this), FEE);
        token.approve(address(market), FEE);
        uint256 second = ITaskMarket(address(market)).createTask(MODEL, EVALUATOR, FEE, "prompt");
        assertEq(second, 2, "the next task id");
        assertEq(views.taskCount(), 2, "createTask counts");
        assertEq(views.paramsVersion(), 1, "and leaves the version");
        assertEq(views.task(taskId).paramsVersion, 0, "the first task keeps its version");
        assertEq(views.task(second).paramsVersion, 1, "the second runs under the new one");
    }

    function testModuleAtItsOwnAddressReadsOnlyItsOwnEmptyStorage() public {
        ITaskViews module = ITaskViews(market.views());
        (bool ok, bytes memory ret) = address(module).call(abi.encodeCall(ITaskViews.task, (taskId)));
        expectRevertData(ok, ret, abi.encodeWithSelector(ITaskMarket.UnknownTask.selector, taskId));
        assertEq(module.params().committeeSize, 0, "no parameters in the module's own storage");
        assertEq(module.taskCount(), 0, "no task in the module's own storage");
        assertTrue(module.roundOf(taskId) == bytes32(0), "no round in the module's own storage");
    }

    function testFallbackRefusesValue() public {
        vm.deal(address(this), 1 ether);
        (bool ok,) = address(market).call{value: 1}(abi.encodeCall(ITaskViews.task, (taskId)));
        assertTrue(!ok, "a view through the fallback with value is refused");
        assertEq(address(market).balance, 0, "the market holds no ether");
    }

    function testSelectorNobodyImplementsReverts() public {
        (bool ok, bytes memory ret) = address(market).call(abi.encodeWithSelector(bytes4(0xdeadbeef), taskId));
        assertTrue(!ok, "an unknown selector reverts in the module");
        assertEq(ret.length, 0, "with no data: the module has no fallback");
        (ok,) = address(market).call("");
        assertTrue(!ok, "an empty call reverts too");
    }
}
