// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {IStakeRegistry} from "../../../contracts/interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "../../../contracts/interfaces/ITaskMarket.sol";
import {ITaskMarketClient} from "../../../contracts/interfaces/ITaskMarketClient.sol";
import {Rounds} from "../helpers/Rounds.sol";

/// @notice State, ghost variables and per-call checks shared by the invariant handler's actions (see
///         ProtocolHandler): actors, token flows in and out, settled tasks, and the checked settling call.
abstract contract HandlerBase is Rounds {
    bytes32 public constant MODEL = keccak256("model/test-llm");
    uint256 internal constant SCAN = 16; // tasks looked at per action (from a random start)
    uint256 internal constant VALIDATOR_KEY_BASE = 0xB0000; // test-only keys, generated here, never secrets

    MockERC20 public immutable token;
    IStakeRegistry public immutable registry;
    ITaskMarketClient public immutable market;
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

    constructor(MockERC20 token_, IStakeRegistry registry_, ITaskMarketClient market_, bytes32 evaluatorId_) {
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

    // ------------------------------------------------------------------ internals

    mapping(bytes32 key => uint256 score) internal _scores;
    address internal _nextCaller; // sender of the next settling call (default: this handler)
    mapping(uint256 taskId => mapping(uint256 validator => bool reported)) internal _reported;
    /// @dev The current round of each task as a client knows it (CommitteeDrawn, then the commit report).
    mapping(uint256 taskId => ITaskMarket.RoundState) internal _states;
    mapping(bytes32 key => bool revealed) internal _revealedAlone;

    struct Snapshot {
        uint256 credits;
        uint256 registryBalance;
        uint256[] stakes;
        bool[] revealed; // of each watched member: opened by the settling call or before it
        ITaskMarket.Status status;
        uint256 paramsVersion;
        uint256 fee;
        uint256 committeeSize;
    }

    function _isSettled(ITaskMarket.Status status) internal pure returns (bool) {
        return status == ITaskMarket.Status.Finalized || status == ITaskMarket.Status.Refunded;
    }

    /// @dev Runs a call that can slash and settle, and checks its money flows: every token the registry lost
    ///      went to the market, the credits created equal the slashed tokens plus the fee when the task settled
    ///      now (never twice), and every watched staker lost exactly 0 or its slash.
    function _settlingCall(uint256 id, bytes memory data, address[] memory watched, bool[] memory revealed)
        internal
    {
        Snapshot memory before = _snapshot(id, watched);
        before.revealed = revealed;
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

    function _snapshot(uint256 id, address[] memory watched)
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
        snap.paramsVersion = t.paramsVersion;
        snap.fee = t.fee;
        snap.committeeSize = t.committeeSize;
    }

    /// @dev Revealers lose nothing; a non-revealer loses exactly min(stake, penalty of its seat), a late provider
    ///      min(stake, penalty of the provider pool), an equivocator stake * bps / 10_000.
    function _checkSlashes(Snapshot memory before, address[] memory watched, bytes4 selector) internal {
        ITaskMarket.Params memory p = market.paramsAt(before.paramsVersion); // the task's, not the current ones
        uint256 pool = (before.fee * p.validatorPoolBps) / 10_000;
        uint256 penalty;
        if (selector == ITaskMarket.finalize.selector || selector == ITaskMarket.revealReport.selector) {
            penalty = before.committeeSize == 0 ? 0 : ((pool / before.committeeSize) * p.nonRevealPenaltyBps) / 10_000;
        } else if (selector == ITaskMarket.reassign.selector) {
            penalty = ((before.fee - pool) * p.providerTimeoutPenaltyBps) / 10_000;
        }
        for (uint256 i; i < watched.length; ++i) {
            uint256 nowStake = registry.stakeInfo(watched[i]).amount;
            if (nowStake > before.stakes[i]) {
                _violation("stake grew during settlement");
                continue;
            }
            bool revealedMember = before.revealed.length > i && before.revealed[i];
            uint256 expectedLoss;
            if (!revealedMember) {
                expectedLoss = selector == ITaskMarket.reportEquivocation.selector
                    ? (before.stakes[i] * p.equivocationSlashBps) / 10_000 // rounded down
                    : (penalty < before.stakes[i] ? penalty : before.stakes[i]);
            }
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

    function _salt(uint256 id, uint256 round, uint256 index, uint256 score) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", id, round, index, score));
    }

    function _keyOf(address validator) internal view returns (uint256) {
        for (uint256 i; i < validators.length; ++i) {
            if (validators[i] == validator) return VALIDATOR_KEY_BASE + i;
        }
        revert AssertionFailedBool("not a validator");
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
