// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {IStakeRegistry} from "../../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../../contracts/interfaces/ITaskMarket.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {TestBase} from "../helpers/TestBase.sol";

/// @notice Drives random but valid sequences of protocol actions for the invariant suite: stake, unstake, cancel,
///         withdraw, create, answer, reassign, draw, commit, reveal, finalize, claim, and block jumps. It keeps
///         ghost totals of every token that entered or left the system, and checks per-call effects that the
///         global invariants cannot see (exact slashes, credits equal to what was settled, claims paid once).
contract ProtocolHandler is TestBase {
    bytes32 public constant MODEL = keccak256("model/test-llm");
    bytes32 internal constant SENTINEL = bytes32(uint256(1));
    uint256 internal constant SCAN = 16; // tasks looked at per action (from a random start)
    uint256 internal constant VALIDATOR_KEY_BASE = 0xB0000; // test-only keys, generated here, never secrets

    MockERC20 public immutable token;
    IStakeRegistry public immutable registry;
    ITaskMarket public immutable market;
    bytes32 public immutable evaluatorId;

    address[] public providers;
    address[] public validators;
    address[] public requesters;
    address[] internal _accounts; // every address that can hold credits (actors + treasury)

    /// @notice Tokens that entered the protocol (stakes + fees), left it (withdrawals + claims).
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostClaimed;
    /// @notice Per-call checks that failed (each names the check in `lastViolation`).
    uint256 public violations;
    string public lastViolation;
    /// @notice How often each action really ran (for the report and to prove the suite does something).
    mapping(bytes32 action => uint256 count) public calls;
    mapping(uint256 taskId => bool settled) public settled;
    uint256 public settledTasks;

    constructor(MockERC20 token_, IStakeRegistry registry_, ITaskMarket market_, bytes32 evaluatorId_) {
        token = token_;
        registry = registry_;
        market = market_;
        evaluatorId = evaluatorId_;
        for (uint256 i; i < 3; ++i) providers.push(address(uint160(0xA000 + i)));
        // Validators have private keys so that they can sign (and equivocate on) attestations.
        for (uint256 i; i < 7; ++i) validators.push(vm.addr(VALIDATOR_KEY_BASE + i));
        for (uint256 i; i < 2; ++i) requesters.push(address(uint160(0xC000 + i)));
        for (uint256 i; i < 3; ++i) _accounts.push(providers[i]);
        for (uint256 i; i < 7; ++i) _accounts.push(validators[i]);
        for (uint256 i; i < 2; ++i) _accounts.push(requesters[i]);
        _accounts.push(market_.treasury());
    }

    // ------------------------------------------------------------------ views for the invariants

    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    function stakers() external view returns (address[] memory list) {
        list = new address[](providers.length + validators.length);
        for (uint256 i; i < providers.length; ++i) list[i] = providers[i];
        for (uint256 i; i < validators.length; ++i) list[providers.length + i] = validators[i];
    }

    // ------------------------------------------------------------------ staking actions

    function stake(uint256 who, uint256 amount, bool asValidator) public {
        address actor = asValidator ? validators[who % validators.length] : providers[who % providers.length];
        IStakeRegistry.Role role = asValidator ? IStakeRegistry.Role.Validator : IStakeRegistry.Role.Provider;
        IStakeRegistry.StakeInfo memory info = registry.stakeInfo(actor);
        if (info.unstakeBlock != 0) return;
        uint256 min = registry.minStake(role);
        amount = bound(amount, info.amount >= min ? 1 : min - info.amount, 50 * min);
        token.mint(actor, amount);
        vm.prank(actor);
        token.approve(address(registry), amount);
        vm.prank(actor);
        registry.stake(role, amount);
        ghostDeposited += amount;
        if (!asValidator && registry.modelsOf(actor).length == 0) {
            vm.prank(actor);
            registry.registerModel(MODEL);
        }
        ++calls["stake"];
    }

    function requestUnstake(uint256 who) external {
        address actor = _anyStaker(who);
        IStakeRegistry.StakeInfo memory info = registry.stakeInfo(actor);
        if (info.amount == 0 || info.unstakeBlock != 0) return;
        vm.prank(actor);
        registry.requestUnstake();
        ++calls["requestUnstake"];
    }

    function cancelUnstake(uint256 who) external {
        address actor = _anyStaker(who);
        if (registry.stakeInfo(actor).unstakeBlock == 0) return;
        vm.prank(actor);
        registry.cancelUnstake();
        ++calls["cancelUnstake"];
    }

    function withdraw(uint256 who) external {
        address actor = _anyStaker(who);
        IStakeRegistry.StakeInfo memory info = registry.stakeInfo(actor);
        if (info.unstakeBlock == 0 || info.locks != 0) return;
        uint256 withdrawable = uint256(info.unstakeBlock) + registry.unstakeCooldown();
        if (block.number < withdrawable) vm.roll(withdrawable); // a time jump past the cooldown
        uint256 before = token.balanceOf(actor);
        vm.prank(actor);
        registry.withdraw();
        uint256 received = token.balanceOf(actor) - before;
        if (received != info.amount) _violation("withdraw paid other than the stake");
        ghostWithdrawn += received;
        ++calls["withdraw"];
    }

    // ------------------------------------------------------------------ task actions

    function createTask(uint256 who, uint256 fee) external {
        if (registry.activeProviders(MODEL) == 0) return;
        address requester = requesters[who % requesters.length];
        fee = bound(fee, 1, 1e24);
        token.mint(requester, fee);
        vm.prank(requester);
        token.approve(address(market), fee);
        vm.prank(requester);
        market.createTask(MODEL, evaluatorId, fee, "prompt");
        ghostDeposited += fee;
        ++calls["createTask"];
    }

    function submitAnswer(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Assigned);
        if (id == 0 || block.number > t.answerDeadline) return;
        bytes memory output = abi.encodePacked("answer to task ", id);
        vm.prank(t.provider);
        market.submitAnswer(id, keccak256(output), output, "");
        ++calls["submitAnswer"];
    }

    function reassign(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Assigned);
        if (id == 0) return;
        if (block.number <= t.answerDeadline) vm.roll(uint256(t.answerDeadline) + 1);
        _settlingCall(id, abi.encodeCall(ITaskMarket.reassign, (id)), _one(t.provider), false);
        ++calls["reassign"];
    }

    function drawCommittee(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Answered);
        if (id == 0) return;
        if (block.number <= t.seedBlock) vm.roll(uint256(t.seedBlock) + 1);
        _settlingCall(id, abi.encodeCall(ITaskMarket.drawCommittee, (id)), new address[](0), false);
        ++calls["drawCommittee"];
    }

    function commit(uint256 taskSeed, uint256 mask, uint256 scoreSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Committee);
        if (id == 0 || block.number > t.commitEnd) return;
        ITaskMarket.MemberView[] memory members = market.committee(id, t.round);
        uint256 centre = bound(scoreSeed, 0, 10_000);
        for (uint256 i; i < members.length; ++i) {
            if ((mask >> i) & 1 == 0 || members[i].commitment != SENTINEL) continue;
            // Scores cluster around a centre, with the odd outlier, so both paid and unpaid validators occur.
            uint256 score = rand(scoreSeed, i) % 5 == 0 ? rand(scoreSeed, 100 + i) % 10_001
                : _clamp(centre + (rand(scoreSeed, 100 + i) % 1_001), 500);
            bytes32 salt = keccak256(abi.encode("salt", id, t.round, i, score));
            bytes32 c = market.computeCommitment(score, salt, members[i].account, id, t.round);
            vm.prank(members[i].account);
            market.commit(id, i, c);
            _scores[_key(id, t.round, i)] = score;
        }
        ++calls["commit"];
    }

    function reveal(uint256 taskSeed, uint256 mask) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Committee);
        if (id == 0) return;
        if (block.number <= t.commitEnd) vm.roll(uint256(t.commitEnd) + 1);
        if (block.number > t.revealEnd) return;
        ITaskMarket.MemberView[] memory members = market.committee(id, t.round);
        for (uint256 i; i < members.length; ++i) {
            if ((mask >> i) & 1 == 0 || members[i].commitment == SENTINEL || members[i].revealed) continue;
            uint256 score = _scores[_key(id, t.round, i)];
            bytes32 salt = keccak256(abi.encode("salt", id, t.round, i, score));
            vm.prank(members[i].account);
            market.reveal(id, i, score, salt);
        }
        ++calls["reveal"];
    }

    function finalize(uint256 taskSeed) external {
        (uint256 id, ITaskMarket.TaskView memory t) = _findTask(taskSeed, ITaskMarket.Status.Committee);
        if (id == 0) return;
        if (t.revealedCount < t.committeeSize && block.number <= t.revealEnd) vm.roll(uint256(t.revealEnd) + 1);
        ITaskMarket.MemberView[] memory members = market.committee(id, t.round);
        address[] memory watched = new address[](members.length);
        for (uint256 i; i < members.length; ++i) watched[i] = members[i].account;
        _settlingCall(id, abi.encodeCall(ITaskMarket.finalize, (id)), watched, true);
        ++calls["finalize"];
    }

    /// @notice A validator signs two different scores for one task and a requester reports it.
    function reportEquivocation(uint256 taskSeed, uint256 who, uint256 reporterSeed, uint16 score) external {
        uint256 n = market.taskCount();
        if (n == 0) return;
        uint256 id = taskSeed % n + 1;
        uint256 v = who % validators.length;
        if (_reported[id][v]) return;
        _reported[id][v] = true;
        ITaskMarket.TaskView memory t = market.task(id);
        ITaskMarket.Attestation memory a = ITaskMarket.Attestation(id, t.outputHash, t.evaluatorId, score % 10_001);
        ITaskMarket.Attestation memory b =
            ITaskMarket.Attestation(id, t.outputHash, t.evaluatorId, (a.score + 1) % 10_001);
        bytes memory call_ = abi.encodeCall(
            ITaskMarket.reportEquivocation, (a, _signAttestation(v, a), b, _signAttestation(v, b))
        );
        _nextCaller = requesters[reporterSeed % requesters.length];
        _settlingCall(id, call_, _one(validators[v]), false);
        ++calls["reportEquivocation"];
    }

    function claim(uint256 who) external {
        address account = _accounts[who % _accounts.length];
        uint256 amount = market.claimable(account);
        if (amount == 0) return;
        uint256 before = token.balanceOf(account);
        vm.prank(account);
        uint256 returned = market.claim();
        if (token.balanceOf(account) - before != amount || returned != amount) _violation("claim paid wrong amount");
        if (market.claimable(account) != 0) _violation("claim left a balance");
        ghostClaimed += amount;
        ++calls["claim"];
    }

    function jump(uint256 blocks) external {
        vm.roll(block.number + bound(blocks, 1, 60));
        ++calls["jump"];
    }

    // ------------------------------------------------------------------ internals

    mapping(bytes32 key => uint256 score) internal _scores;
    address internal _nextCaller; // sender of the next settling call (default: this handler)
    mapping(uint256 taskId => mapping(uint256 validator => bool reported)) internal _reported;

    /// @dev EIP-712 signature of `a` by validator `v`, with the domain read from the market (EIP-5267).
    function _signAttestation(uint256 v, ITaskMarket.Attestation memory a) internal view returns (bytes memory) {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            IERC5267(address(market)).eip712Domain();
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifying
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Attestation(uint256 taskId,bytes32 outputHash,bytes32 evaluatorId,uint16 score)"),
                a.taskId,
                a.outputHash,
                a.evaluatorId,
                a.score
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", domain, structHash));
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(VALIDATOR_KEY_BASE + v, digest);
        return abi.encodePacked(r, s, sv);
    }

    struct Snapshot {
        uint256 credits;
        uint256 registryBalance;
        uint256[] stakes;
        ITaskMarket.MemberView[] members;
        ITaskMarket.Status status;
    }

    function _isSettled(ITaskMarket.Status status) internal pure returns (bool) {
        return status == ITaskMarket.Status.Finalized || status == ITaskMarket.Status.Refunded;
    }

    /// @dev Runs a call that can slash and settle, and checks its money flows: every token the registry lost
    ///      went to the market, the credits created equal the slashed tokens plus the fee when the task settled
    ///      now (never twice), and every watched staker lost exactly 0 or its slash.
    function _settlingCall(uint256 id, bytes memory data, address[] memory watched, bool watchedAreMembers)
        internal
    {
        Snapshot memory before = _snapshot(id, watched, watchedAreMembers);
        // The handler only makes calls that must succeed in the current state: a revert is a finding.
        // solhint-disable-next-line avoid-low-level-calls
        if (_nextCaller != address(0)) vm.prank(_nextCaller);
        _nextCaller = address(0);
        (bool ok, bytes memory ret) = address(market).call(data);
        if (!ok) {
            _violation(string.concat("settling call reverted: ", _hex(ret)));
            return;
        }

        uint256 slashed = before.registryBalance - token.balanceOf(address(registry));
        ITaskMarket.TaskView memory afterwards = market.task(id);
        bool settlesNow = !_isSettled(before.status) && _isSettled(afterwards.status);
        if (_isSettled(before.status) && afterwards.status != before.status) _violation("settled task changed");
        if (settlesNow) {
            if (settled[id]) _violation("task settled twice");
            settled[id] = true;
            ++settledTasks;
        }
        uint256 expectedCredits = slashed + (settlesNow ? afterwards.fee : 0);
        if (_totalCredits() - before.credits != expectedCredits) _violation("credits != slashed + settled fee");
        _checkSlashes(before, watched, bytes4(data));
    }

    function _snapshot(uint256 id, address[] memory watched, bool watchedAreMembers)
        internal
        view
        returns (Snapshot memory snap)
    {
        snap.credits = _totalCredits();
        snap.registryBalance = token.balanceOf(address(registry));
        snap.stakes = new uint256[](watched.length);
        for (uint256 i; i < watched.length; ++i) snap.stakes[i] = registry.stakeInfo(watched[i]).amount;
        ITaskMarket.TaskView memory t = market.task(id);
        snap.status = t.status;
        if (watchedAreMembers) snap.members = market.committee(id, t.round);
    }

    /// @dev Revealers lose nothing; non-revealers (or a late provider) lose exactly stake * bps / 10_000.
    function _checkSlashes(Snapshot memory before, address[] memory watched, bytes4 selector) internal {
        ITaskMarket.Params memory p = market.params();
        uint256 bps = selector == ITaskMarket.finalize.selector
            ? p.nonRevealSlashBps
            : selector == ITaskMarket.reassign.selector ? p.providerTimeoutSlashBps : p.equivocationSlashBps;
        for (uint256 i; i < watched.length; ++i) {
            uint256 nowStake = registry.stakeInfo(watched[i]).amount;
            if (nowStake > before.stakes[i]) {
                _violation("stake grew during settlement");
                continue;
            }
            bool revealedMember = before.members.length > i && before.members[i].revealed;
            uint256 expectedLoss = revealedMember ? 0 : (before.stakes[i] * bps) / 10_000; // rounded down
            if (before.stakes[i] - nowStake != expectedLoss) _violation("slash differs from its rule");
        }
    }

    function _hex(bytes memory data) internal pure returns (string memory out) {
        bytes memory digits = "0123456789abcdef";
        uint256 n = data.length > 36 ? 36 : data.length;
        bytes memory buf = new bytes(2 * n);
        for (uint256 i; i < n; ++i) {
            buf[2 * i] = digits[uint8(data[i]) >> 4];
            buf[2 * i + 1] = digits[uint8(data[i]) & 15];
        }
        return string(buf);
    }

    function _totalCredits() internal view returns (uint256 sum) {
        for (uint256 i; i < _accounts.length; ++i) sum += market.claimable(_accounts[i]);
    }

    function _findTask(uint256 seed, ITaskMarket.Status status)
        internal
        view
        returns (uint256 id, ITaskMarket.TaskView memory t)
    {
        uint256 n = market.taskCount();
        if (n == 0) return (0, t);
        uint256 start = seed % n;
        uint256 scan = n < SCAN ? n : SCAN;
        for (uint256 j; j < scan; ++j) {
            uint256 candidate = ((start + j) % n) + 1;
            t = market.task(candidate);
            if (t.status == status) return (candidate, t);
        }
        return (0, t);
    }

    function _anyStaker(uint256 who) internal view returns (address) {
        uint256 i = who % (providers.length + validators.length);
        return i < providers.length ? providers[i] : validators[i - providers.length];
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _key(uint256 id, uint256 round, uint256 index) internal pure returns (bytes32) {
        return keccak256(abi.encode(id, round, index));
    }

    function _clamp(uint256 score, uint256 minus) internal pure returns (uint256) {
        score = score > minus ? score - minus : 0;
        return score > 10_000 ? 10_000 : score;
    }

    function _violation(string memory what) internal {
        ++violations;
        lastViolation = what;
    }
}
