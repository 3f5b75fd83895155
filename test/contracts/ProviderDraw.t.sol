// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {StakeRegistry} from "../../contracts/StakeRegistry.sol";
import {TaskMarket} from "../../contracts/TaskMarket.sol";
import {IStakeRegistry} from "../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../contracts/interfaces/ITaskMarket.sol";
import {ITaskMarketClient} from "../../contracts/interfaces/ITaskMarketClient.sol";
import {TestBase} from "./helpers/TestBase.sol";
import {DeployProtocol} from "./helpers/DeployProtocol.sol";

/// @notice The attack of issue 10, finding 6: a requester contract that creates a task and reverts unless the
/// provider it wants was drawn (before the fix the draw read block.prevrandao inside createTask, so the wrapper
/// could retry block after block, or burn task ids, until it got its provider).
contract ProviderChooser {
    error NotWanted(address drawn);

    function createFor(
        ITaskMarketClient market,
        IERC20 token,
        bytes32 model,
        bytes32 evaluator,
        uint256 fee,
        address wanted
    ) external returns (uint256 taskId) {
        token.approve(address(market), fee);
        taskId = market.createTask(model, evaluator, fee, "prompt");
        address drawn = market.assignedProvider(taskId);
        if (drawn != wanted) revert NotWanted(drawn);
    }
}

/// @notice Issue 10.6: the provider draw happens from the hash of the block after the creation, so nothing inside
/// the creating transaction (or block) can know or steer it.
contract ProviderDrawTest is TestBase {
    bytes32 internal constant MODEL = keccak256("model/test-llm");
    bytes32 internal constant EVALUATOR = keccak256("evaluator/test");
    uint256 internal constant STAKE = 100e18;
    uint256 internal constant FEE = 1e18;

    MockERC20 internal token;
    StakeRegistry internal registry;
    ITaskMarketClient internal market;
    ProviderChooser internal chooser;
    address[3] internal providers = [address(0xA000), address(0xA001), address(0xA002)];

    function setUp() public {
        token = new MockERC20("Test", "TST");
        TaskMarket m;
        (registry, m) = DeployProtocol.deploy(address(token), STAKE, 400, EVALUATOR, address(0x7EA5));
        market = ITaskMarketClient(address(m));
        for (uint256 i; i < providers.length; ++i) {
            uint256 amount = STAKE * (i + 1);
            token.mint(providers[i], amount);
            vm.prank(providers[i]);
            token.approve(address(registry), amount);
            vm.prank(providers[i]);
            registry.stake(IStakeRegistry.Role.Provider, amount);
            vm.prank(providers[i]);
            registry.registerModel(MODEL);
        }
        chooser = new ProviderChooser();
        token.mint(address(chooser), 1_000 * FEE);
        vm.roll(block.number + 1);
    }

    /// @notice Block after block, for every provider it could want, the wrapper learns nothing inside createTask:
    /// the draw needs the hash of a block that does not exist yet, so it always reverts (and gains nothing).
    function testWrapperThatRevertsUnlessItsProviderIsDrawnNeverSucceeds() public {
        for (uint256 b; b < 40; ++b) {
            vm.roll(block.number + 1);
            for (uint256 i; i < providers.length; ++i) {
                (bool ok, bytes memory ret) = address(chooser).call(
                    abi.encodeCall(ProviderChooser.createFor, (market, token, MODEL, EVALUATOR, FEE, providers[i]))
                );
                expectRevertData(ok, ret, abi.encodeWithSelector(ProviderChooser.NotWanted.selector, address(0)));
            }
        }
        assertEq(market.taskCount(), 0, "no task was created");
    }

    /// @notice The same holds for the registry's draw itself: no hash of the current (or a later) block exists.
    function testDrawOfTheCurrentBlockIsUnknowable() public {
        token.mint(address(this), FEE);
        token.approve(address(market), FEE);
        uint256 id = market.createTask(MODEL, EVALUATOR, FEE, "prompt");
        ITaskMarket.TaskView memory t = market.task(id);
        assertEq(t.seedBlock, block.number + 1, "seed block");
        assertEq(_n(t.provider), 0, "nothing drawn at creation");
        assertEq(_n(registry.providerDraw(MODEL, block.number, id, 0, address(0))), 0, "current block");
        assertEq(_n(registry.providerDraw(MODEL, block.number + 1, id, 0, address(0))), 0, "seed block");
        (bool ok, bytes memory ret) = address(market).call(abi.encodeCall(ITaskMarket.assignProvider, (id)));
        expectRevertData(ok, ret, abi.encodeWithSelector(ITaskMarket.ProviderNotDrawnYet.selector, id, block.number + 1));
        vm.roll(block.number + 2);
        address drawn = market.assignedProvider(id);
        assertTrue(drawn != address(0), "drawn once the seed block exists");
        market.assignProvider(id); // anyone may materialize it
        assertEq(_n(market.task(id).provider), _n(drawn), "materialized provider == announced provider");
        assertEq(registry.stakeInfo(drawn).locks, 1, "locked at materialization");
        market.assignProvider(id); // a second call changes nothing
        assertEq(registry.stakeInfo(drawn).locks, 1, "locked once");
    }

    function _n(address account) private pure returns (uint256) {
        return uint160(account);
    }
}
