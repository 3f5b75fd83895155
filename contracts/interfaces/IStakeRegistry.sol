// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IStakeRegistry
/// @notice Stakes of inference providers and validators in one ERC-20 token, their stake-weighted sortition pools,
/// the lock counters that keep assigned stake in place, and slashing by the task market only.
/// @dev Each address holds one role at a time (daemons use one key per role). A staker leaves the sortition pools
/// as soon as it requests to unstake; it can withdraw only after the cooldown AND once no open task holds a lock.
interface IStakeRegistry {
    /// @notice The role an address stakes for.
    enum Role {
        None,
        Provider,
        Validator
    }

    /// @notice One staker's account: everything a task touches packed into the first storage slot.
    /// @param amount Staked tokens (after slashing).
    /// @param locks Number of open tasks this staker is assigned to (provider or committee member).
    /// @param misses Consecutive assigned tasks missed (no reveal, no answer); any task done resets it.
    /// @param role The role the stake is for.
    /// @param lastUnlockBlock Block its last assignment settled; withdraw waits `equivocationWindow` after it.
    /// @param jailedUntil 0, or the block from which a jailed staker may call unjail (out of every pool until then).
    /// @param unstakeBlock Block of the pending unstake request, 0 when none.
    struct StakeInfo {
        uint128 amount;
        uint32 locks;
        uint8 misses;
        Role role;
        uint40 lastUnlockBlock;
        uint40 jailedUntil;
        uint64 unstakeBlock;
    }

    /// @notice Emitted when `staker` adds `amount` tokens for `role`; `total` is its stake afterwards.
    event Staked(address indexed staker, Role indexed role, uint256 amount, uint256 total);
    /// @notice Emitted when `staker` asks to leave; it may withdraw from block `withdrawableBlock` if unlocked.
    event UnstakeRequested(address indexed staker, uint256 withdrawableBlock);
    /// @notice Emitted when `staker` cancels its pending unstake request and rejoins the sortition pool.
    event UnstakeCancelled(address indexed staker);
    /// @notice Emitted when `staker` withdraws its whole stake of `amount` tokens.
    event Withdrawn(address indexed staker, uint256 amount);
    /// @notice Emitted when the task market slashes `amount` tokens from `staker`, leaving `remaining`.
    event Slashed(address indexed staker, uint256 amount, uint256 remaining);
    /// @notice Emitted when `staker` missed `misses` assigned tasks in a row and leaves every pool until `until`.
    event Jailed(address indexed staker, uint256 misses, uint256 until);
    /// @notice Emitted when a jailed `staker` rejoins its pools.
    event Unjailed(address indexed staker);
    /// @notice Emitted when governance changes the downtime and equivocation policy.
    event PenaltyPolicySet(uint256 jailAfterMisses, uint256 jailBlocks, uint256 equivocationWindow);
    /// @notice Emitted when provider `provider` starts serving model `modelId`.
    event ModelRegistered(address indexed provider, bytes32 indexed modelId);
    /// @notice Emitted when provider `provider` stops serving model `modelId`.
    event ModelUnregistered(address indexed provider, bytes32 indexed modelId);
    /// @notice Emitted when `validator` declares it runs evaluator `evaluatorId` (joins that committee pool).
    event EvaluatorJoined(address indexed validator, bytes32 indexed evaluatorId);
    /// @notice Emitted when `validator` stops running evaluator `evaluatorId`.
    event EvaluatorLeft(address indexed validator, bytes32 indexed evaluatorId);
    /// @notice Emitted once, when governance binds the registry to its task market.
    event TaskMarketSet(address indexed taskMarket);
    /// @notice Emitted when governance changes the minimum stake of `role`.
    event MinStakeSet(Role indexed role, uint256 amount);
    /// @notice Emitted when governance changes the unstake cooldown (in blocks).
    event UnstakeCooldownSet(uint256 blocks);

    /// @notice Thrown when a staking call names Role.None.
    error InvalidRole();
    /// @notice Thrown when `staker` already stakes for another role (withdraw first).
    error RoleMismatch(Role current, Role requested);
    /// @notice Thrown when a stake would end below the role's minimum.
    error BelowMinStake(uint256 amount, uint256 minimum);
    /// @notice Thrown when the stake amount does not fit the packed account.
    error StakeTooLarge(uint256 amount);
    /// @notice Thrown when a zero amount is staked.
    error ZeroAmount();
    /// @notice Thrown when the token delivered fewer tokens than asked (fee-on-transfer tokens are not supported).
    error FeeOnTransferToken(uint256 expected, uint256 received);
    /// @notice Thrown when the caller has no stake.
    error NotStaked(address staker);
    /// @notice Thrown when an unstake request already exists.
    error UnstakeAlreadyRequested();
    /// @notice Thrown when withdraw or cancel is called without an unstake request.
    error UnstakeNotRequested();
    /// @notice Thrown when withdraw is called before the cooldown ends.
    error CooldownNotOver(uint256 withdrawableBlock);
    /// @notice Thrown when withdraw comes less than `equivocationWindow` blocks after the last settled assignment.
    error EquivocationWindowOpen(uint256 withdrawableBlock);
    /// @notice Thrown when unjail is called by a staker that is not jailed, or before `jailedUntil`.
    error NotUnjailable(uint256 jailedUntil);
    /// @notice Thrown when withdraw is called while open tasks still hold `locks` locks.
    error StakeLocked(uint256 locks);
    /// @notice Thrown when a model is (un)registered by a non-provider or an evaluator by a non-validator.
    error WrongRole(address account, Role required);
    /// @notice Thrown when a staker registers a model or evaluator it already has.
    error AlreadyRegistered(bytes32 id);
    /// @notice Thrown when a staker unregisters a model or evaluator it does not have.
    error NotRegistered(bytes32 id);
    /// @notice Thrown when a staker would hold more than MAX_REGISTRATIONS models or evaluators.
    error TooManyRegistrations();
    /// @notice Thrown when a market-only function is called by anyone else.
    error OnlyTaskMarket(address caller);
    /// @notice Thrown when the task market is set a second time or to the zero address.
    error TaskMarketAlreadySet();
    /// @notice Thrown when an unlock would take a lock counter below zero.
    error LockUnderflow(address staker);
    /// @notice Thrown when a draw names the current or a future block as its pool snapshot.
    error SnapshotNotFinal(uint256 snapshotBlock);
    /// @notice Thrown when a governance parameter is outside its hard-coded bounds.
    error ParameterOutOfBounds(string name, uint256 value);

    /// @notice Stakes `amount` tokens for `role`, pulling them with transferFrom (approve first).
    /// @dev The first stake sets the role; top-ups must name the same role. Joins the sortition pool(s) once the
    /// stake reaches the role's minimum. Cancels nothing: top-ups during a pending unstake are rejected.
    function stake(Role role, uint256 amount) external;

    /// @notice Starts the exit: leaves the sortition pools now; withdraw is possible after the cooldown and once
    /// no open task holds a lock on the stake.
    function requestUnstake() external;

    /// @notice Cancels a pending unstake request and rejoins the sortition pools.
    function cancelUnstake() external;

    /// @notice Withdraws the whole stake after the cooldown, when no lock is held and `equivocationWindow` blocks
    /// have passed since its last assignment settled (so a late equivocation report still finds the stake), and
    /// clears the role. A staker slashed to zero uses the same path to clear its role.
    function withdraw() external;

    /// @notice A jailed staker rejoins its pools once `jailedUntil` is reached (misses start again from 0).
    function unjail() external;

    /// @notice Provider only: starts serving `modelId` (enters that model's sortition pool).
    function registerModel(bytes32 modelId) external;

    /// @notice Provider only: stops serving `modelId`. Existing assignments stay locked until they settle.
    function unregisterModel(bytes32 modelId) external;

    /// @notice Validator only: declares that it runs evaluator `evaluatorId`; committees of tasks pinning that
    /// evaluator are drawn only from validators that declared it (nobody is drawn for a model it cannot run).
    function registerEvaluator(bytes32 evaluatorId) external;

    /// @notice Validator only: stops running `evaluatorId`. Committees already drawn stay locked until they settle.
    function unregisterEvaluator(bytes32 evaluatorId) external;

    /// @notice Task market only: adds one lock to each staker (assigned to an open task).
    function lock(address[] calldata stakers) external;

    /// @notice Task market only: draws the provider of attempt `attempt` of task `taskId` as `providerDraw` does
    /// and adds one lock to it.
    /// @return provider The drawn and locked provider, or the zero address when `providerDraw` gives none.
    function assignProvider(bytes32 modelId, uint256 seedBlock, uint256 taskId, uint256 attempt, address exclude)
        external
        returns (address provider);

    /// @notice The provider drawn for attempt `attempt` of task `taskId` on `modelId`: stake-weighted with seed
    /// keccak256(abi.encode(blockhash(seedBlock), taskId, attempt)), never `exclude`, over the model's pool at the
    /// end of block `seedBlock - 1` (fixed before the hash existed).
    /// @return provider The provider, or the zero address when the hash of `seedBlock` is not known (not yet
    /// mined, or older than 256 blocks) or nobody is eligible.
    function providerDraw(bytes32 modelId, uint256 seedBlock, uint256 taskId, uint256 attempt, address exclude)
        external
        view
        returns (address provider);

    /// @notice The committee of round `round` of task `taskId`: k validators running `evaluatorId`, never `exclude`,
    /// drawn with seed keccak256(abi.encode(blockhash(seedBlock), taskId, round)) over the pool at the end of block
    /// `seedBlock - 1` (fixed before the hash existed), as `drawCommittee` does. Known from block `seedBlock + 1` on,
    /// before anyone sends the draw: `assignCommittee` selects exactly these members.
    /// @return members The committee, or an empty array when the hash of `seedBlock` is not known (not yet mined,
    /// or older than 256 blocks) or fewer than k validators were eligible.
    function committeeDraw(
        bytes32 evaluatorId,
        uint256 seedBlock,
        uint256 taskId,
        uint256 round,
        uint256 k,
        address exclude
    ) external view returns (address[] memory members);

    /// @notice Task market only: draws the committee of round `round` of task `taskId` exactly as `committeeDraw`
    /// does and adds one lock to each member.
    /// @return members The locked members, or an empty array when the hash of `seedBlock` is not known (not yet
    /// mined, or older than 256 blocks) or fewer than k validators were eligible.
    function assignCommittee(
        bytes32 evaluatorId,
        uint256 seedBlock,
        uint256 taskId,
        uint256 round,
        uint256 k,
        address exclude
    ) external returns (address[] memory members);

    /// @notice Number of providers of `modelId` that could be drawn now, `exclude` not counted.
    function otherProviders(bytes32 modelId, address exclude) external view returns (uint256);

    /// @notice Task market only: removes one lock from each staker (its task settled).
    function unlock(address[] calldata stakers) external;

    /// @notice Task market only: removes one lock from each staker and settles its part in the task: a zero
    /// `penalties[i]` (task done) resets its consecutive misses; a positive one slashes min(penalty, stake), counts
    /// a miss and, at `jailAfterMisses` misses in a row, jails the staker (out of every pool) instead of draining it.
    /// @return total The tokens slashed, transferred to the market.
    function release(address[] calldata stakers, uint256[] calldata penalties) external returns (uint256 total);

    /// @notice Task market only: slashes `bps` / 10_000 of each staker's current stake (rounded down) and
    /// transfers the total to the task market, which credits it to the treasury (or a reporter bounty).
    /// @return total The total number of tokens slashed and transferred.
    function slash(address[] calldata stakers, uint256 bps) external returns (uint256 total);

    /// @notice Draws one provider serving `modelId`, stake-weighted from `seed`, never `exclude`, over the pool as
    /// it was at the end of block `snapshotBlock` (a past block).
    /// @return provider The drawn provider, or the zero address when the pool (without `exclude`) is empty.
    function drawProvider(bytes32 modelId, uint256 seed, address exclude, uint256 snapshotBlock)
        external
        view
        returns (address provider);

    /// @notice Draws `k` distinct validators running `evaluatorId`, stake-weighted from `seed`, never `exclude`,
    /// over the pool as it was at the end of block `snapshotBlock` (a past block, fixed before the seed was known:
    /// changing the pool after seeing the seed changes nothing).
    /// @dev Sampling without replacement (see CommitteeDraw): exactly k samples, O(k log n) storage lookups.
    /// @return members The committee, or an empty array when fewer than `k` validators (other than `exclude`) were
    /// in the pool.
    function drawCommittee(bytes32 evaluatorId, uint256 seed, uint256 k, address exclude, uint256 snapshotBlock)
        external
        view
        returns (address[] memory members);

    /// @notice Weight of each validator for the stake-weighted median: the smaller of its weight in the pool of
    /// `evaluatorId` at `snapshotBlock` (the draw) and its stake now, so a top-up after the reveals moves nothing.
    /// When every one of them is zero (each was slashed to nothing since the draw) all weights are 1: the round still
    /// settles, as a plain lower median, instead of reverting forever and freezing its escrow.
    function drawWeights(bytes32 evaluatorId, address[] calldata validators, uint256 snapshotBlock)
        external
        view
        returns (uint256[] memory weights);

    /// @notice The account of `staker`.
    function stakeInfo(address staker) external view returns (StakeInfo memory);

    /// @notice Current stake of each staker (used as weights by the stake-weighted median).
    function stakesOf(address[] calldata stakers) external view returns (uint256[] memory amounts);

    /// @notice Models served by `provider`.
    function modelsOf(address provider) external view returns (bytes32[] memory);

    /// @notice Evaluators run by `validator`.
    function evaluatorsOf(address validator) external view returns (bytes32[] memory);

    /// @notice Number of validators currently in the sortition pool of `evaluatorId`.
    function activeValidators(bytes32 evaluatorId) external view returns (uint256);

    /// @notice Number of providers currently in the sortition pool of `modelId`.
    function activeProviders(bytes32 modelId) external view returns (uint256);

    /// @notice Total stake in the sortition pool of validators running `evaluatorId`.
    function totalValidatorWeight(bytes32 evaluatorId) external view returns (uint256);

    /// @notice The stake token.
    function token() external view returns (address);

    /// @notice The task market allowed to lock and slash (zero until set).
    function taskMarket() external view returns (address);

    /// @notice Minimum stake of `role`.
    function minStake(Role role) external view returns (uint256);

    /// @notice Unstake cooldown in blocks (always longer than the market's longest task lifetime).
    function unstakeCooldown() external view returns (uint256);

    /// @notice Consecutive misses that jail a staker.
    function jailAfterMisses() external view returns (uint256);

    /// @notice Blocks a jailed staker stays out of the pools at least.
    function jailBlocks() external view returns (uint256);

    /// @notice Blocks after its last settled assignment during which a stake cannot be withdrawn.
    function equivocationWindow() external view returns (uint256);

    /// @notice Governance: sets the downtime and equivocation policy (each within its bounds).
    function setPenaltyPolicy(uint256 misses, uint256 blocks, uint256 window) external;

    /// @notice Governance: binds the registry to its task market, once.
    function setTaskMarket(address market) external;

    /// @notice Governance: sets the minimum stake of `role` (non-zero).
    function setMinStake(Role role, uint256 amount) external;

    /// @notice Governance: sets the unstake cooldown; must exceed the market's longest task lifetime and stay
    /// within MAX_COOLDOWN_BLOCKS.
    function setUnstakeCooldown(uint256 blocks) external;
}
