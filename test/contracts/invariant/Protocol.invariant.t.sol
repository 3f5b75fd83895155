// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {StakeRegistry} from "../../../contracts/StakeRegistry.sol";
import {TaskMarket} from "../../../contracts/TaskMarket.sol";
import {IStakeRegistry} from "../../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../../contracts/interfaces/ITaskMarket.sol";
import {ITaskMarketClient} from "../../../contracts/interfaces/ITaskMarketClient.sol";
import {TestBase} from "../helpers/TestBase.sol";
import {ProtocolHandler} from "./ProtocolHandler.t.sol";
import {DeployProtocol} from "../helpers/DeployProtocol.sol";

/// @notice Stateful invariants of the whole protocol under random action sequences driven by ProtocolHandler.
/// @dev Run the folder, not this file alone: `npx hardhat test solidity test/contracts/invariant/*.t.sol`. Hardhat
///      only emits artifacts for the files it is given, and the fuzzer needs ProtocolHandler's artifact to target it
///      (without it: "No contracts to fuzz"). `npm test` runs everything, so it is unaffected.
contract ProtocolInvariantTest is TestBase {
    MockERC20 internal token;
    StakeRegistry internal registry;
    TaskMarket internal market;
    ProtocolHandler internal handler;
    address internal constant TREASURY = address(0x7EA5);

    function setUp() public {
        token = new MockERC20("Stake", "STK");
        bytes32 evaluatorId = keccak256("evaluator/minilm-cross-encoder");
        (registry, market) = DeployProtocol.deploy(address(token), 100e18, 800, evaluatorId, TREASURY);
        handler = new ProtocolHandler(token, registry, ITaskMarketClient(address(market)), evaluatorId);
        // Everybody starts staked so that tasks and committees happen from the first call.
        for (uint256 i; i < 3; ++i) handler.stake(i, 100e18 + i * 37e18, false);
        for (uint256 i; i < 7; ++i) handler.stake(i, 100e18 + i * 53e18, true);
    }

    /// @notice The handler's round actions really take the report paths (not only the fallbacks): one task through a
    ///         commit report and a settling reveal report, with every per-call check clean.
    function testHandlerDrivesReports() public {
        handler.createTask(0, 1e18);
        handler.submitAnswer(0);
        handler.drawCommittee(0);
        uint256 scoreSeed = _seedWhere(true, false, 0);
        handler.commit(0, type(uint256).max, scoreSeed);
        handler.reveal(0, _seedWhere(true, false, 0));
        assertEq(handler.calls("commitReport"), 1, "one commit report");
        assertEq(handler.calls("revealReport"), 1, "one reveal report");
        assertTrue(ITaskMarketClient(address(market)).task(1).status != ITaskMarket.Status.Committee, "settled");
        _checkNoHandlerViolation();
    }

    /// @notice The daemons' path: no drawCommittee; the commit report, the round's first commit, draws the committee
    ///         pendingCommittee announced, then the reveal report settles, each check clean.
    function testHandlerDrawsByTheFirstCommit() public {
        handler.createTask(0, 1e18);
        handler.submitAnswer(0);
        vm.roll(block.number + 2); // past the seed block
        handler.commit(0, type(uint256).max, _seedWhere(true, false, 0));
        assertEq(handler.calls("drawnByCommit"), 1, "drawn by the commit");
        assertEq(handler.calls("commitReport"), 1, "one commit report");
        assertTrue(ITaskMarketClient(address(market)).task(1).status == ITaskMarket.Status.Committee, "drawn");
        handler.reveal(0, _seedWhere(true, false, 0));
        assertEq(handler.calls("revealReport"), 1, "one reveal report");
        assertTrue(ITaskMarketClient(address(market)).task(1).status != ITaskMarket.Status.Committee, "settled");
        _checkNoHandlerViolation();
        _checkLocksMatchOpenTasks();
    }

    /// @notice The partial path: a report of seats 0 and 1 (seat 0 again in a second one) stores their openings
    ///         without settling; finalize after revealEnd settles and slashes the rest, each check clean.
    function testHandlerDrivesPartialReports() public {
        handler.createTask(0, 1e18);
        handler.submitAnswer(0);
        handler.drawCommittee(0);
        handler.commit(0, type(uint256).max, _seedWhere(true, false, 0));
        handler.reveal(0, _seedWhere(true, true, 3));
        handler.reveal(0, _seedWhere(true, true, 1 | (1 << 8)));
        assertEq(handler.calls("partialRevealReport"), 2, "two partial reveal reports");
        ITaskMarket.TaskView memory t = ITaskMarketClient(address(market)).task(1);
        assertTrue(t.status == ITaskMarket.Status.Committee, "not settled");
        assertEq(t.revealedCount, 2, "two openings stored");
        handler.finalize(0);
        assertTrue(ITaskMarketClient(address(market)).task(1).status != ITaskMarket.Status.Committee, "settled");
        _checkNoHandlerViolation();
    }

    /// @dev A seed whose word 999 is even as asked (the handler's coin for "as a report"), whose word 998 is even
    ///      as asked (its coin for "partial") and whose low 16 bits are `low` (the seats a partial report opens).
    function _seedWhere(bool report, bool partialOnly, uint256 low) internal pure returns (uint256 seed) {
        seed = low;
        while ((rand(seed, 999) % 2 == 0) != report || (rand(seed, 998) % 2 == 0) != partialOnly) seed += 1 << 16;
    }

    /// @notice Only the handler is fuzzed (Foundry-compatible target selection).
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev Escrow of every task that has not settled yet.
    function _openEscrow() internal view returns (uint256 sum) {
        uint256 n = ITaskMarketClient(address(market)).taskCount();
        for (uint256 id = 1; id <= n; ++id) {
            ITaskMarket.TaskView memory t = ITaskMarketClient(address(market)).task(id);
            if (t.status != ITaskMarket.Status.Finalized && t.status != ITaskMarket.Status.Refunded) sum += t.fee;
        }
    }

    function _credits() internal view returns (uint256 sum) {
        address[] memory accounts = handler.accounts();
        for (uint256 i; i < accounts.length; ++i) sum += market.claimable(accounts[i]);
    }

    function _stakes() internal view returns (uint256 sum) {
        address[] memory list = handler.stakers();
        for (uint256 i; i < list.length; ++i) sum += registry.stakeInfo(list[i]).amount;
    }

    /// @notice All protocol invariants, checked after every handler call. One invariant function instead of six:
    ///         each `invariant_*` function is a separate fuzzing campaign, and these checks are cheap next to the
    ///         calls that lead to them.
    /// hardhat-config: invariant.failOnRevert = true
    function invariant_protocol() public view {
        _checkMarketBalanceEqualsEscrowPlusClaimable();
        _checkRegistryBalanceEqualsStakes();
        _checkConservation();
        _checkNoHandlerViolation();
        _checkLocksMatchOpenTasks();
        _checkValidatorPoolWeight();
    }

    /// @notice The market holds exactly the open escrow plus every credit (treasury included).
    function _checkMarketBalanceEqualsEscrowPlusClaimable() internal view {
        assertEq(token.balanceOf(address(market)), _openEscrow() + _credits(), "market balance");
    }

    /// @notice The registry holds exactly the sum of all stakes.
    function _checkRegistryBalanceEqualsStakes() internal view {
        assertEq(token.balanceOf(address(registry)), _stakes(), "registry balance");
    }

    /// @notice No token appears or disappears: deposits == held + withdrawn + claimed.
    function _checkConservation() internal view {
        uint256 held = token.balanceOf(address(market)) + token.balanceOf(address(registry));
        assertEq(handler.ghostDeposited(), held + handler.ghostWithdrawn() + handler.ghostClaimed(), "conservation");
    }

    /// @notice Per-call checks in the handler: exact slashes (never beyond stake), credits equal to what was
    ///         settled, no task settled twice, claims paid exactly once.
    function _checkNoHandlerViolation() internal view {
        if (handler.violations() != 0) revert AssertionFailedBool(handler.lastViolation());
    }

    /// @notice Every lock is held by an open task: provider of an unsettled task, or member of the current
    ///         committee of a task in its commit/reveal phases.
    function _checkLocksMatchOpenTasks() internal view {
        address[] memory list = handler.stakers();
        uint256[] memory expected = new uint256[](list.length);
        uint256 n = ITaskMarketClient(address(market)).taskCount();
        for (uint256 id = 1; id <= n; ++id) {
            ITaskMarket.TaskView memory t = ITaskMarketClient(address(market)).task(id);
            if (t.status == ITaskMarket.Status.Finalized || t.status == ITaskMarket.Status.Refunded) continue;
            _count(list, expected, t.provider);
            if (t.status != ITaskMarket.Status.Committee) continue;
            address[] memory members = handler.membersOf(id);
            for (uint256 i; i < members.length; ++i) _count(list, expected, members[i]);
        }
        for (uint256 i; i < list.length; ++i) {
            assertEq(registry.stakeInfo(list[i]).locks, expected[i], "locks == open assignments");
        }
    }

    /// @notice The validator sortition pool weighs exactly the eligible validators' stakes.
    function _checkValidatorPoolWeight() internal view {
        uint256 sum;
        uint256 min = registry.minStake(IStakeRegistry.Role.Validator);
        for (uint256 i; i < 7; ++i) {
            IStakeRegistry.StakeInfo memory info = registry.stakeInfo(handler.validators(i));
            if (info.unstakeBlock == 0 && info.jailedUntil == 0 && info.amount >= min) sum += info.amount;
        }
        assertEq(registry.totalValidatorWeight(handler.evaluatorId()), sum, "pool weight");
    }

    /// @notice After each run: every open task can be driven to settlement, every credit claimed and every stake
    ///         withdrawn, leaving the registry empty and the market with exactly the 1 wei claim() keeps of each
    ///         credit (no other token is ever stuck).
    function afterInvariant() public {
        uint256 n = ITaskMarketClient(address(market)).taskCount();
        for (uint256 id = 1; id <= n; ++id) _settle(id);
        address[] memory accounts = handler.accounts();
        for (uint256 i; i < accounts.length; ++i) handler.claim(i);
        address[] memory list = handler.stakers();
        for (uint256 i; i < list.length; ++i) {
            handler.requestUnstake(i);
            handler.withdraw(i);
        }
        // What stays in the market is the 1 wei claim() keeps of each credit, still owed to its account.
        uint256 kept;
        for (uint256 i; i < accounts.length; ++i) {
            uint256 credit = market.claimable(accounts[i]);
            assertLe(credit, 1, "every credit claimed but the kept wei");
            kept += credit;
        }
        assertEq(token.balanceOf(address(market)), kept, "market drained but the kept wei");
        assertEq(token.balanceOf(address(registry)), 0, "registry drained");
        assertEq(handler.ghostDeposited(), handler.ghostWithdrawn() + handler.ghostClaimed() + kept, "all deposits exited");
        _checkNoHandlerViolation();
    }

    /// @dev Drives task `id` through its remaining steps with everybody honest (bounded: each step settles or
    ///      advances the task, and rounds, reassignments and the pool are all finite).
    function _settle(uint256 id) internal {
        uint256 seed = id - 1; // the handler's task search starts at seed % taskCount + 1 == id
        for (uint256 step; step < 40; ++step) {
            ITaskMarket.Status status = ITaskMarketClient(address(market)).task(id).status;
            if (status == ITaskMarket.Status.Finalized || status == ITaskMarket.Status.Refunded) return;
            if (status == ITaskMarket.Status.Assigned) {
                if (block.number <= ITaskMarketClient(address(market)).task(id).answerDeadline) handler.submitAnswer(seed);
                else handler.reassign(seed);
            } else if (status == ITaskMarket.Status.Answered) {
                handler.drawCommittee(seed);
            } else {
                handler.commit(seed, type(uint256).max, id);
                handler.reveal(seed, type(uint256).max);
                handler.finalize(seed);
            }
        }
        revert AssertionFailedBool("task did not settle");
    }

    function _count(address[] memory list, uint256[] memory counts, address account) internal pure {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == account) {
                ++counts[i];
                return;
            }
        }
    }
}
