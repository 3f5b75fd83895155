// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ReentrantERC20} from "../../contracts/mocks/ReentrantERC20.sol";
import {FeeOnTransferERC20} from "../../contracts/mocks/FeeOnTransferERC20.sol";
import {StakeRegistry} from "../../contracts/StakeRegistry.sol";
import {TaskMarket} from "../../contracts/TaskMarket.sol";
import {IStakeRegistry} from "../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../contracts/interfaces/ITaskMarket.sol";
import {ITaskMarketClient} from "../../contracts/interfaces/ITaskMarketClient.sol";
import {Rounds} from "./helpers/Rounds.sol";
import {DeployProtocol} from "./helpers/DeployProtocol.sol";

interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @notice A contract account (requester or staker) that re-enters the protocol when the token calls it back.
contract Attacker {
    address public reentryTarget;
    bytes public reentryData;

    /// @notice Performs a call as this account, bubbling any revert.
    function act(address target, bytes calldata data) external returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) _bubble(result);
    }

    /// @notice Sets what `reenter` calls.
    function setReentry(address target, bytes calldata data) external {
        reentryTarget = target;
        reentryData = data;
    }

    /// @notice Called back by the token in the middle of a transfer: re-enters as this account.
    function reenter() external {
        (bool ok, bytes memory result) = reentryTarget.call(reentryData);
        if (!ok) _bubble(result);
    }

    function _bubble(bytes memory result) private pure {
        assembly ("memory-safe") {
            revert(add(result, 32), mload(result))
        }
    }
}

/// @notice Re-entrancy through a malicious token into claim / withdraw / finalize, and fee-on-transfer rejection.
contract ReentrancyTest is Rounds {
    bytes32 internal constant MODEL = keccak256("model/test-llm");
    bytes32 internal constant EVALUATOR = keccak256("evaluator/test");
    address internal constant TREASURY = address(0x7EA5);
    address internal constant PROVIDER = address(0xA000);
    uint256 internal constant STAKE = 100e18;

    ReentrantERC20 internal token;
    StakeRegistry internal registry;
    TaskMarket internal market;
    Attacker internal attacker;
    mapping(uint256 taskId => ITaskMarket.RoundState) internal _states;

    function setUp() public {
        token = new ReentrantERC20();
        (registry, market) = DeployProtocol.deploy(address(token), STAKE, 400, EVALUATOR, TREASURY);
        attacker = new Attacker();
        _stake(PROVIDER, IStakeRegistry.Role.Provider);
        vm.prank(PROVIDER);
        registry.registerModel(MODEL);
        for (uint256 i; i < 5; ++i) _stake(_validator(i), IStakeRegistry.Role.Validator);
        vm.roll(block.number + 1); // draws read the pools as of a finished block
    }

    function _validator(uint256 i) internal pure returns (address) {
        return address(uint160(0xB000 + i));
    }

    function _stake(address who, IStakeRegistry.Role role) internal {
        token.mint(who, STAKE);
        vm.prank(who);
        token.approve(address(registry), STAKE);
        vm.prank(who);
        registry.stake(role, STAKE);
        if (role == IStakeRegistry.Role.Validator) {
            vm.prank(who);
            registry.registerEvaluator(EVALUATOR);
        }
    }

    /// @dev Runs one task from creation to the end of the reveal phase; member `skip` (>= 5: none) never reveals.
    ///      The requester is the attacker contract. Returns the task id.
    function _taskUpToReveals(uint256 skip) internal returns (uint256 id) {
        uint256 fee = 1_000e18;
        token.mint(address(attacker), fee);
        attacker.act(address(token), abi.encodeCall(IERC20.approve, (address(market), fee)));
        bytes memory ret =
            attacker.act(address(market), abi.encodeCall(ITaskMarket.createTask, (MODEL, EVALUATOR, fee, "prompt")));
        id = abi.decode(ret, (uint256));
        bytes memory output = "an answer";
        vm.roll(block.number + 2); // the provider is drawn from the hash of the block after the creation
        vm.prank(PROVIDER);
        market.submitAnswer(id, keccak256(output), output, "");
        vm.roll(block.number + 2);
        address[] memory members = _drawMembers(market, id);
        ITaskMarket.RoundState memory state = _drawState(members);
        _states[id] = state;
        // Each member commits and reveals alone (the fallback calls): the slash and the payouts are the same as
        // through the reports.
        for (uint256 i; i < members.length; ++i) {
            bytes32 c = _client().computeCommitment(6_000 + i * 10, bytes32(i + 1), members[i], id, 0);
            vm.prank(members[i]);
            market.commit(id, state, i, c);
        }
        vm.roll(_client().task(id).commitEnd + 1);
        for (uint256 i; i < members.length; ++i) {
            if (i == skip) continue;
            vm.prank(members[i]);
            market.reveal(id, state, i, 6_000 + i * 10, bytes32(i + 1));
        }
    }

    /// @dev The market with its views (served by its TaskViews module).
    function _client() internal view returns (ITaskMarketClient) {
        return ITaskMarketClient(address(market));
    }

    function _finalize(uint256 id) internal {
        market.finalize(id, _states[id]);
    }

    function _guardError() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
    }

    function _assertReentryBlocked(uint256 expectedCount) internal view {
        assertEq(token.reentryCount(), expectedCount, "callback ran");
        assertTrue(token.lastReentryReverted(), "re-entry reverted");
        assertTrue(keccak256(token.lastReentryResult()) == keccak256(_guardError()), "reverted by the guard");
    }

    function testClaimReenteringClaimIsBlocked() public {
        uint256 id = _taskUpToReveals(99);
        _finalize(id);
        uint256 credit = market.claimable(address(attacker));
        assertTrue(credit != 0, "requester has a refund to claim");
        uint256 marketBefore = token.balanceOf(address(market));

        attacker.setReentry(address(market), abi.encodeCall(ITaskMarket.claim, ()));
        token.arm(address(attacker), abi.encodeCall(Attacker.reenter, ()), ReentrantERC20.Trigger.Transfer);
        attacker.act(address(market), abi.encodeCall(ITaskMarket.claim, ()));

        _assertReentryBlocked(1);
        assertEq(token.balanceOf(address(attacker)), credit - 1, "paid exactly once (all but the kept wei)");
        assertEq(market.claimable(address(attacker)), 1, "credit consumed but the kept wei");
        assertEq(token.balanceOf(address(market)), marketBefore - (credit - 1), "market lost only the credit");
    }

    function testClaimReenteringFinalizeIsBlocked() public {
        uint256 first = _taskUpToReveals(99);
        _finalize(first);
        uint256 second = _taskUpToReveals(99); // all revealed: finalize would be allowed right now
        uint256 credit = market.claimable(address(attacker));
        uint256 marketBefore = token.balanceOf(address(market));

        attacker.setReentry(address(market), abi.encodeCall(ITaskMarket.finalize, (second, _states[second])));
        token.arm(address(attacker), abi.encodeCall(Attacker.reenter, ()), ReentrantERC20.Trigger.Transfer);
        attacker.act(address(market), abi.encodeCall(ITaskMarket.claim, ()));

        _assertReentryBlocked(1);
        assertTrue(_client().task(second).status == ITaskMarket.Status.Committee, "second task untouched");
        assertEq(token.balanceOf(address(market)), marketBefore - (credit - 1), "market lost only the credit");
    }

    function testWithdrawReenteringWithdrawIsBlocked() public {
        token.mint(address(attacker), STAKE);
        attacker.act(address(token), abi.encodeCall(IERC20.approve, (address(registry), STAKE)));
        attacker.act(address(registry), abi.encodeCall(IStakeRegistry.stake, (IStakeRegistry.Role.Validator, STAKE)));
        attacker.act(address(registry), abi.encodeCall(IStakeRegistry.requestUnstake, ()));
        vm.roll(block.number + registry.unstakeCooldown());
        uint256 registryBefore = token.balanceOf(address(registry));

        attacker.setReentry(address(registry), abi.encodeCall(IStakeRegistry.withdraw, ()));
        token.arm(address(attacker), abi.encodeCall(Attacker.reenter, ()), ReentrantERC20.Trigger.Transfer);
        attacker.act(address(registry), abi.encodeCall(IStakeRegistry.withdraw, ()));

        _assertReentryBlocked(1);
        assertEq(token.balanceOf(address(attacker)), STAKE, "stake paid exactly once");
        assertEq(token.balanceOf(address(registry)), registryBefore - STAKE, "registry lost only that stake");
        assertEq(registry.stakeInfo(address(attacker)).amount, 0, "stake cleared");
    }

    function testFinalizeReenteredDuringSlashIsBlocked() public {
        uint256 id = _taskUpToReveals(2); // member 2 never reveals: finalize slashes it (a token transfer)
        vm.roll(_client().task(id).revealEnd + 1);
        uint256 totalBefore = token.balanceOf(address(market)) + token.balanceOf(address(registry));

        token.arm(address(market), abi.encodeCall(ITaskMarket.finalize, (id, _states[id])), ReentrantERC20.Trigger.Transfer);
        _finalize(id);

        _assertReentryBlocked(1);
        assertTrue(_client().task(id).status == ITaskMarket.Status.Finalized, "finalized once");
        uint256 totalAfter = token.balanceOf(address(market)) + token.balanceOf(address(registry));
        assertEq(totalAfter, totalBefore, "slash moved tokens inside the protocol only");
    }

    function testCreateTaskReenteringClaimIsBlocked() public {
        uint256 first = _taskUpToReveals(99);
        _finalize(first);
        uint256 credit = market.claimable(address(attacker));
        attacker.setReentry(address(market), abi.encodeCall(ITaskMarket.claim, ()));
        token.arm(address(attacker), abi.encodeCall(Attacker.reenter, ()), ReentrantERC20.Trigger.TransferFrom);
        _taskUpToReveals(99); // createTask pulls the fee with transferFrom -> callback -> claim re-entry

        _assertReentryBlocked(1);
        assertEq(market.claimable(address(attacker)), credit, "credit untouched by the blocked re-entry");
    }

    function testFeeOnTransferTokenRejected() public {
        FeeOnTransferERC20 fot = new FeeOnTransferERC20(0);
        (StakeRegistry r, TaskMarket m) = DeployProtocol.deploy(address(fot), STAKE, 400, EVALUATOR, TREASURY);
        // A provider stakes while the fee is off, then the token starts charging 1%.
        fot.mint(PROVIDER, STAKE);
        vm.prank(PROVIDER);
        fot.approve(address(r), STAKE);
        vm.prank(PROVIDER);
        r.stake(IStakeRegistry.Role.Provider, STAKE);
        vm.prank(PROVIDER);
        r.registerModel(MODEL);
        vm.roll(block.number + 1);
        fot.setFeeBps(100);

        address staker = _validator(9);
        fot.mint(staker, STAKE);
        vm.prank(staker);
        fot.approve(address(r), STAKE);
        vm.prank(staker);
        (bool ok, bytes memory ret) =
            address(r).call(abi.encodeCall(IStakeRegistry.stake, (IStakeRegistry.Role.Validator, STAKE)));
        expectRevertData(
            ok, ret, abi.encodeWithSelector(IStakeRegistry.FeeOnTransferToken.selector, STAKE, STAKE - STAKE / 100)
        );

        address requester = address(0xC000);
        fot.mint(requester, 1e18);
        vm.prank(requester);
        fot.approve(address(m), 1e18);
        vm.prank(requester);
        (ok, ret) = address(m).call(abi.encodeCall(ITaskMarket.createTask, (MODEL, EVALUATOR, 1e18, "prompt")));
        expectRevertData(ok, ret, abi.encodeWithSelector(ITaskMarket.FeeOnTransferToken.selector, 1e18, 0.99e18));
        assertEq(fot.balanceOf(address(m)), 0, "no escrow booked");
        assertEq(ITaskMarketClient(address(m)).taskCount(), 0, "no task created");
    }
}
