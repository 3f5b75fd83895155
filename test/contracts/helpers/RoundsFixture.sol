// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {StakeRegistry} from "../../../contracts/StakeRegistry.sol";
import {TaskMarket} from "../../../contracts/TaskMarket.sol";
import {IStakeRegistry} from "../../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../../contracts/interfaces/ITaskMarket.sol";
import {ITaskMarketClient} from "../../../contracts/interfaces/ITaskMarketClient.sol";
import {Rounds} from "./Rounds.sol";
import {DeployProtocol} from "./DeployProtocol.sol";

/// @notice The protocol of the round tests (Rounds.t.sol, LazyDraw.t.sol): the real market, registry and
///         SettlementMath with seven staked validators and one provider, and the helpers that build tasks, signed
///         commit reports and reveal reports.
abstract contract RoundsFixture is Rounds {
    bytes32 internal constant MODEL = keccak256("model/test-llm");
    bytes32 internal constant EVALUATOR = keccak256("evaluator/test");
    address internal constant TREASURY = address(0x7EA5);
    address internal constant PROVIDER = address(0xA000);
    address internal constant REQUESTER = address(0xC000);
    uint256 internal constant STAKE = 100e18;
    uint256 internal constant FEE = 100e18; // a non-revealer's penalty (12e18) stays below its stake
    uint256 internal constant KEY_BASE = 0xB0000; // test-only keys, generated here, never secrets
    uint256 internal constant VALIDATORS = 7;
    uint256 internal constant K = 5;
    uint256 internal constant ALL = (1 << K) - 1;

    MockERC20 internal token;
    StakeRegistry internal registry;
    ITaskMarketClient internal market;

    function setUp() public {
        token = new MockERC20("Stake", "STK");
        TaskMarket m;
        (registry, m) = DeployProtocol.deploy(address(token), STAKE, 400, EVALUATOR, TREASURY);
        market = ITaskMarketClient(address(m));
        _stake(PROVIDER, IStakeRegistry.Role.Provider);
        vm.prank(PROVIDER);
        registry.registerModel(MODEL);
        for (uint256 i; i < VALIDATORS; ++i) _stake(vm.addr(KEY_BASE + i), IStakeRegistry.Role.Validator);
        vm.roll(block.number + 1); // draws read the pools as of a finished block
        vm.warp(1_000_000);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Twice the minimum, so that a slashed member stays eligible for the next round's draw.
    function _stake(address who, IStakeRegistry.Role role) internal {
        token.mint(who, 2 * STAKE);
        vm.prank(who);
        token.approve(address(registry), 2 * STAKE);
        vm.prank(who);
        registry.stake(role, 2 * STAKE);
        if (role == IStakeRegistry.Role.Validator) {
            vm.prank(who);
            registry.registerEvaluator(EVALUATOR);
        }
    }

    function _answeredTask() internal returns (uint256 id) {
        token.mint(REQUESTER, FEE);
        vm.prank(REQUESTER);
        token.approve(address(market), FEE);
        vm.prank(REQUESTER);
        id = market.createTask(MODEL, EVALUATOR, FEE, "prompt");
        vm.roll(block.number + 2); // the provider is drawn from the hash of the block after the creation
        bytes memory output = "an answer";
        vm.prank(PROVIDER);
        market.submitAnswer(id, keccak256(output), output, "");
        vm.roll(block.number + 2);
    }

    function _drawnTask() internal returns (uint256 id, address[] memory members) {
        id = _answeredTask();
        members = _drawMembers(market, id);
        assertEq(members.length, K, "committee drawn");
    }

    function _scores(uint256 base) internal pure returns (uint256[] memory scores) {
        scores = new uint256[](K);
        for (uint256 i; i < K; ++i) scores[i] = base + i * 10;
    }

    function _salt(uint256 id, uint256 round, address member) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", id, round, member));
    }

    function _commitment(uint256 id, uint256 round, address member, uint256 score) internal view returns (bytes32) {
        return market.computeCommitment(score, _salt(id, round, member), member, id, round);
    }

    function _keyOf(address member) internal pure returns (uint256) {
        for (uint256 i; i < VALIDATORS; ++i) {
            if (vm.addr(KEY_BASE + i) == member) return KEY_BASE + i;
        }
        revert AssertionFailedBool("not a validator");
    }

    /// @dev A commit report of the seats in `mask`, each signed by its member.
    function _report(uint256 id, uint256 round, address[] memory members, uint256 mask, uint256[] memory scores)
        internal
        view
        returns (ITaskMarket.CommitReport memory r)
    {
        uint256 n = _popCount(mask);
        r = ITaskMarket.CommitReport(
            id, round, uint32(mask), new bytes32[](n), block.timestamp + 1 hours, new bytes32[2][](n)
        );
        uint256 j;
        for (uint256 i; i < members.length; ++i) {
            if ((mask >> i) & 1 == 0) continue;
            r.commitments[j] = _commitment(id, round, members[i], scores[i]);
            r.signatures[j] = _signCommit(_keyOf(members[i]), address(market), id, round, r.commitments[j], r.deadline);
            ++j;
        }
    }

    /// @dev Sends the first commit report of the round, of `mask`, and returns the round state after it.
    function _commitAll(uint256 id, address[] memory members, uint256 mask, uint256[] memory scores)
        internal
        returns (ITaskMarket.RoundState memory state)
    {
        ITaskMarket.CommitReport memory r = _report(id, market.task(id).round, members, mask, scores);
        market.commitReport(_drawState(members), r);
        state = ITaskMarket.RoundState(members, uint32(mask), r.commitments);
    }

    function _reveal(uint256 id, uint256 round, address[] memory members, uint256 mask, uint256[] memory scores)
        internal
        pure
        returns (ITaskMarket.RevealReport memory r)
    {
        uint256 n = _popCount(mask);
        r = ITaskMarket.RevealReport(id, uint32(mask), new uint16[](n), new bytes32[](n));
        uint256 j;
        for (uint256 i; i < K; ++i) {
            if ((mask >> i) & 1 == 0) continue;
            r.scores[j] = uint16(scores[i]);
            r.salts[j] = _salt(id, round, i < members.length ? members[i] : address(0));
            ++j;
        }
    }

    function _commitDigest(uint256 id, uint256 round, bytes32 commitment, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(COMMIT_TYPEHASH, id, round, commitment, deadline));
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(address(market)), structHash));
    }

    /// @dev EIP-2098: the top bit of the second word is the y parity, the rest is s.
    function _recover(bytes32 digest, bytes32[2] memory sig) internal pure returns (address) {
        uint8 v = uint8(uint256(sig[1]) >> 255) + 27;
        bytes32 s = bytes32(uint256(sig[1]) & (type(uint256).max >> 1));
        return ecrecover(digest, v, sig[0], s);
    }

    function _nonRevealPenalty() internal view returns (uint256) {
        ITaskMarket.Params memory p = market.params();
        return (((FEE * p.validatorPoolBps) / 10_000 / K) * p.nonRevealPenaltyBps) / 10_000;
    }

    /// @dev Credits of everyone a settlement can pay: members, provider, requester, treasury.
    function _credits(address[] memory members) internal view returns (uint256 sum) {
        for (uint256 i; i < members.length; ++i) sum += market.claimable(members[i]);
        sum += market.claimable(PROVIDER) + market.claimable(REQUESTER) + market.claimable(TREASURY);
    }

    function _copy(address[] memory a) internal pure returns (address[] memory b) {
        b = new address[](a.length);
        for (uint256 i; i < a.length; ++i) b[i] = a[i];
    }

    function _cloneState(ITaskMarket.RoundState memory s) internal pure returns (ITaskMarket.RoundState memory c) {
        c.members = _copy(s.members);
        c.reportMask = s.reportMask;
        c.reportCommitments = new bytes32[](s.reportCommitments.length);
        for (uint256 i; i < s.reportCommitments.length; ++i) c.reportCommitments[i] = s.reportCommitments[i];
    }

    function _popCount(uint256 mask) internal pure returns (uint256 n) {
        for (; mask != 0; mask &= mask - 1) ++n;
    }

    function _expectRevert(address sender, bytes memory data, bytes memory expected) internal {
        vm.prank(sender);
        (bool ok, bytes memory ret) = address(market).call(data);
        expectRevertData(ok, ret, expected);
    }

    function _expectCommitReport(
        address[] memory members,
        ITaskMarket.CommitReport memory r,
        bytes memory expected
    ) internal {
        _expectRevert(address(this), abi.encodeCall(ITaskMarket.commitReport, (_drawState(members), r)), expected);
    }

    function _expectRevealReport(
        ITaskMarket.RoundState memory state,
        ITaskMarket.RevealReport memory r,
        bytes memory expected
    ) internal {
        _expectRevert(address(this), abi.encodeCall(ITaskMarket.revealReport, (state, r)), expected);
    }
}
