// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";
import {CommitteeDraw} from "./libraries/CommitteeDraw.sol";
import {SortitionTree} from "./libraries/SortitionTree.sol";

/// @title StakeRegistry
/// @notice Stakes, sortition pools, locks and slashing for providers and validators (see IStakeRegistry).
/// @dev Sortition weight = stake, for stakers at or above the role's minimum without a pending unstake request;
/// everyone else has weight 0 and cannot be drawn. A change of the minimum applies to a staker at its next stake
/// change (stake, slash, unstake request or cancel).
contract StakeRegistry is IStakeRegistry, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SortitionTree for SortitionTree.Tree;

    /// @notice A provider serves at most this many models, a validator runs at most this many evaluators (bounds
    /// the cost of every weight update: one sortition pool per registration).
    uint256 public constant MAX_REGISTRATIONS = 8;
    /// @notice Upper bound of the unstake cooldown in blocks (about 139 days at 12 s per block).
    uint256 public constant MAX_COOLDOWN_BLOCKS = 1_000_000;
    uint256 private constant BPS = 10_000;
    /// @notice Upper bound of `jailAfterMisses` (a staker is out of the pools after at most this many misses).
    uint256 public constant MAX_JAIL_AFTER_MISSES = 20;

    /// @inheritdoc IStakeRegistry
    address public immutable token;

    /// @inheritdoc IStakeRegistry
    address public taskMarket;
    /// @inheritdoc IStakeRegistry
    uint256 public unstakeCooldown;
    /// @inheritdoc IStakeRegistry
    uint256 public jailAfterMisses = 3;
    /// @inheritdoc IStakeRegistry
    uint256 public jailBlocks = 600;
    /// @inheritdoc IStakeRegistry
    uint256 public equivocationWindow = 600;
    mapping(Role role => uint256 amount) private _minStake;
    mapping(address staker => StakeInfo info) private _stakes;
    /// @dev Models a provider serves, or evaluators a validator runs (one role per address).
    mapping(address staker => bytes32[] ids) private _registrations;
    /// @dev One pool per (role, model or evaluator): providers of a model, validators running an evaluator.
    mapping(Role role => mapping(bytes32 id => SortitionTree.Tree pool)) private _pools;

    modifier onlyTaskMarket() {
        if (msg.sender != taskMarket) revert OnlyTaskMarket(msg.sender);
        _;
    }

    /// @param stakeToken The ERC-20 used for stakes (fee-on-transfer tokens are rejected at stake time).
    /// @param governance The owner (a timelock in production).
    /// @param minProviderStake Minimum provider stake (non-zero).
    /// @param minValidatorStake Minimum validator stake (non-zero).
    /// @param cooldownBlocks Unstake cooldown; checked against the market's lifetime when the market is set.
    constructor(
        address stakeToken,
        address governance,
        uint256 minProviderStake,
        uint256 minValidatorStake,
        uint256 cooldownBlocks
    ) Ownable(governance) {
        token = stakeToken;
        _setMinStake(Role.Provider, minProviderStake);
        _setMinStake(Role.Validator, minValidatorStake);
        if (cooldownBlocks == 0 || cooldownBlocks > MAX_COOLDOWN_BLOCKS) {
            revert ParameterOutOfBounds("unstakeCooldown", cooldownBlocks);
        }
        unstakeCooldown = cooldownBlocks;
        emit UnstakeCooldownSet(cooldownBlocks);
    }

    // ---------------------------------------------------------------- stakers

    /// @inheritdoc IStakeRegistry
    function stake(Role role, uint256 amount) external nonReentrant {
        if (role == Role.None) revert InvalidRole();
        if (amount == 0) revert ZeroAmount();
        StakeInfo memory info = _stakes[msg.sender];
        if (info.role != Role.None && info.role != role) revert RoleMismatch(info.role, role);
        if (info.unstakeBlock != 0) revert UnstakeAlreadyRequested();
        uint256 total = uint256(info.amount) + amount;
        if (total > type(uint128).max) revert StakeTooLarge(total);
        if (total < _minStake[role]) revert BelowMinStake(total, _minStake[role]);

        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert FeeOnTransferToken(amount, received);

        info.role = role;
        info.amount = uint128(total);
        _stakes[msg.sender] = info;
        _syncWeight(msg.sender, info);
        emit Staked(msg.sender, role, amount, total);
    }

    /// @inheritdoc IStakeRegistry
    function requestUnstake() external {
        StakeInfo storage info = _stakes[msg.sender];
        // A role without stake (slashed to zero) may leave too: withdraw then only clears the role.
        if (info.role == Role.None) revert NotStaked(msg.sender);
        if (info.unstakeBlock != 0) revert UnstakeAlreadyRequested();
        info.unstakeBlock = uint64(block.number);
        _syncWeight(msg.sender, info);
        emit UnstakeRequested(msg.sender, block.number + unstakeCooldown);
    }

    /// @inheritdoc IStakeRegistry
    function cancelUnstake() external {
        StakeInfo storage info = _stakes[msg.sender];
        if (info.unstakeBlock == 0) revert UnstakeNotRequested();
        info.unstakeBlock = 0;
        _syncWeight(msg.sender, info);
        emit UnstakeCancelled(msg.sender);
    }

    /// @inheritdoc IStakeRegistry
    function withdraw() external nonReentrant {
        StakeInfo memory info = _stakes[msg.sender];
        if (info.unstakeBlock == 0) revert UnstakeNotRequested();
        uint256 withdrawableBlock = uint256(info.unstakeBlock) + unstakeCooldown;
        if (block.number < withdrawableBlock) revert CooldownNotOver(withdrawableBlock);
        if (info.locks != 0) revert StakeLocked(info.locks);
        uint256 reportableUntil = uint256(info.lastUnlockBlock) + equivocationWindow; // never assigned: no wait
        if (info.lastUnlockBlock != 0 && block.number < reportableUntil) revert EquivocationWindowOpen(reportableUntil);
        // The staker already left every pool when it requested the unstake; its registrations stay listed so that
        // a returning staker keeps them, but are cleared here because the role is cleared.
        delete _registrations[msg.sender];
        delete _stakes[msg.sender];
        if (info.amount != 0) IERC20(token).safeTransfer(msg.sender, info.amount);
        emit Withdrawn(msg.sender, info.amount);
    }

    /// @inheritdoc IStakeRegistry
    function registerModel(bytes32 modelId) external {
        _register(Role.Provider, modelId);
    }

    /// @inheritdoc IStakeRegistry
    function unregisterModel(bytes32 modelId) external {
        _unregister(Role.Provider, modelId);
    }

    /// @inheritdoc IStakeRegistry
    function registerEvaluator(bytes32 evaluatorId) external {
        _register(Role.Validator, evaluatorId);
    }

    /// @inheritdoc IStakeRegistry
    function unregisterEvaluator(bytes32 evaluatorId) external {
        _unregister(Role.Validator, evaluatorId);
    }

    /// @inheritdoc IStakeRegistry
    function unjail() external {
        StakeInfo storage info = _stakes[msg.sender];
        uint256 until = info.jailedUntil;
        if (until == 0 || block.number < until) revert NotUnjailable(until);
        info.jailedUntil = 0;
        info.misses = 0;
        _syncWeight(msg.sender, info);
        emit Unjailed(msg.sender);
    }

    // ---------------------------------------------------------------- task market

    /// @inheritdoc IStakeRegistry
    function lock(address[] calldata stakers) external onlyTaskMarket {
        for (uint256 i; i < stakers.length; ++i) {
            ++_stakes[stakers[i]].locks;
        }
    }

    /// @inheritdoc IStakeRegistry
    function assignProvider(bytes32 modelId, uint256 seedBlock, uint256 taskId, uint256 attempt, address exclude)
        external
        onlyTaskMarket
        returns (address provider)
    {
        provider = providerDraw(modelId, seedBlock, taskId, attempt, exclude);
        if (provider == address(0)) return provider;
        ++_stakes[provider].locks;
    }

    /// @inheritdoc IStakeRegistry
    function assignCommittee(
        bytes32 evaluatorId,
        uint256 seedBlock,
        uint256 taskId,
        uint256 round,
        uint256 k,
        address exclude
    ) external onlyTaskMarket returns (address[] memory members) {
        members = committeeDraw(evaluatorId, seedBlock, taskId, round, k, exclude);
        for (uint256 i; i < members.length; ++i) {
            ++_stakes[members[i]].locks;
        }
    }

    /// @inheritdoc IStakeRegistry
    function unlock(address[] calldata stakers) external onlyTaskMarket {
        for (uint256 i; i < stakers.length; ++i) {
            StakeInfo storage info = _stakes[stakers[i]];
            uint256 locks = info.locks;
            if (locks == 0) revert LockUnderflow(stakers[i]);
            unchecked {
                --locks;
            }
            info.locks = uint32(locks);
            info.lastUnlockBlock = uint40(block.number);
        }
    }

    /// @inheritdoc IStakeRegistry
    function release(address[] calldata stakers, uint256[] calldata penalties)
        external
        onlyTaskMarket
        nonReentrant
        returns (uint256 total)
    {
        for (uint256 i; i < stakers.length; ++i) {
            address staker = stakers[i];
            if (penalties[i] == 0) {
                // Task done (the common case): touches the first slot only.
                StakeInfo storage done = _stakes[staker];
                uint256 locks = done.locks;
                if (locks == 0) revert LockUnderflow(staker);
                unchecked {
                    --locks;
                }
                done.locks = uint32(locks);
                done.misses = 0;
                done.lastUnlockBlock = uint40(block.number);
                continue;
            }
            StakeInfo memory info = _stakes[staker];
            if (info.locks == 0) revert LockUnderflow(staker);
            unchecked {
                --info.locks;
            }
            info.lastUnlockBlock = uint40(block.number);
            // A miss costs an amount tied to the task (computed by the market), never more than the stake; misses
            // in a row jail the staker (out of the pools) so that downtime cannot drain it.
            uint256 amount = penalties[i] < info.amount ? penalties[i] : info.amount;
            info.amount -= uint128(amount);
            total += amount;
            if (info.misses < type(uint8).max) ++info.misses;
            bool jail = info.misses >= jailAfterMisses && info.jailedUntil == 0;
            if (jail) info.jailedUntil = uint40(block.number + jailBlocks);
            _stakes[staker] = info;
            _syncWeight(staker, info);
            emit Slashed(staker, amount, info.amount);
            if (jail) emit Jailed(staker, info.misses, info.jailedUntil);
        }
        if (total != 0) IERC20(token).safeTransfer(msg.sender, total);
    }

    /// @inheritdoc IStakeRegistry
    function slash(address[] calldata stakers, uint256 bps) external onlyTaskMarket nonReentrant returns (uint256 total) {
        if (bps > BPS) revert ParameterOutOfBounds("slashBps", bps);
        for (uint256 i; i < stakers.length; ++i) {
            StakeInfo memory info = _stakes[stakers[i]];
            uint256 amount = (uint256(info.amount) * bps) / BPS; // rounded down: the staker keeps the remainder
            if (amount == 0) continue;
            info.amount -= uint128(amount);
            _stakes[stakers[i]] = info;
            _syncWeight(stakers[i], info);
            total += amount;
            emit Slashed(stakers[i], amount, info.amount);
        }
        if (total != 0) IERC20(token).safeTransfer(msg.sender, total);
    }

    /// @inheritdoc IStakeRegistry
    function drawProvider(bytes32 modelId, uint256 seed, address exclude, uint256 snapshotBlock)
        public
        view
        returns (address provider)
    {
        _checkSnapshot(snapshotBlock);
        address[] memory drawn =
            CommitteeDraw.drawDistinct(_pools[Role.Provider][modelId], seed, 1, exclude, snapshotBlock);
        return drawn.length == 0 ? address(0) : drawn[0];
    }

    /// @inheritdoc IStakeRegistry
    function providerDraw(bytes32 modelId, uint256 seedBlock, uint256 taskId, uint256 attempt, address exclude)
        public
        view
        returns (address provider)
    {
        // blockhash is zero for the current block, a future one and one older than 256 blocks: no draw then.
        bytes32 entropy = blockhash(seedBlock);
        if (entropy == bytes32(0)) return address(0);
        uint256 seed = uint256(keccak256(abi.encode(entropy, taskId, attempt)));
        return drawProvider(modelId, seed, exclude, seedBlock - 1);
    }

    /// @inheritdoc IStakeRegistry
    function committeeDraw(
        bytes32 evaluatorId,
        uint256 seedBlock,
        uint256 taskId,
        uint256 round,
        uint256 k,
        address exclude
    ) public view returns (address[] memory members) {
        // blockhash is zero for the current block, a future one and one older than 256 blocks: no draw then.
        bytes32 entropy = blockhash(seedBlock);
        if (entropy == bytes32(0)) return members;
        uint256 seed = uint256(keccak256(abi.encode(entropy, taskId, round)));
        return drawCommittee(evaluatorId, seed, k, exclude, seedBlock - 1);
    }

    /// @inheritdoc IStakeRegistry
    function drawCommittee(bytes32 evaluatorId, uint256 seed, uint256 k, address exclude, uint256 snapshotBlock)
        public
        view
        returns (address[] memory members)
    {
        _checkSnapshot(snapshotBlock);
        return CommitteeDraw.drawDistinct(_pools[Role.Validator][evaluatorId], seed, k, exclude, snapshotBlock);
    }

    /// @inheritdoc IStakeRegistry
    function drawWeights(bytes32 evaluatorId, address[] calldata validators, uint256 snapshotBlock)
        external
        view
        returns (uint256[] memory weights)
    {
        SortitionTree.Tree storage pool = _pools[Role.Validator][evaluatorId];
        weights = new uint256[](validators.length);
        uint256 total;
        for (uint256 i; i < validators.length; ++i) {
            uint256 atDraw = pool.weightAt(validators[i], snapshotBlock);
            uint256 current = _stakes[validators[i]].amount;
            weights[i] = atDraw < current ? atDraw : current;
            total += weights[i];
        }
        if (total == 0) {
            for (uint256 i; i < validators.length; ++i) {
                weights[i] = 1;
            }
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IStakeRegistry
    function stakeInfo(address staker) external view returns (StakeInfo memory) {
        return _stakes[staker];
    }

    /// @inheritdoc IStakeRegistry
    function stakesOf(address[] calldata stakers) external view returns (uint256[] memory amounts) {
        amounts = new uint256[](stakers.length);
        for (uint256 i; i < stakers.length; ++i) {
            amounts[i] = _stakes[stakers[i]].amount;
        }
    }

    /// @inheritdoc IStakeRegistry
    function modelsOf(address provider) external view returns (bytes32[] memory) {
        return _stakes[provider].role == Role.Provider ? _registrations[provider] : new bytes32[](0);
    }

    /// @inheritdoc IStakeRegistry
    function evaluatorsOf(address validator) external view returns (bytes32[] memory) {
        return _stakes[validator].role == Role.Validator ? _registrations[validator] : new bytes32[](0);
    }

    /// @inheritdoc IStakeRegistry
    function activeValidators(bytes32 evaluatorId) external view returns (uint256) {
        return _pools[Role.Validator][evaluatorId].size();
    }

    /// @inheritdoc IStakeRegistry
    function activeProviders(bytes32 modelId) external view returns (uint256) {
        return _pools[Role.Provider][modelId].size();
    }

    /// @inheritdoc IStakeRegistry
    function otherProviders(bytes32 modelId, address exclude) external view returns (uint256) {
        SortitionTree.Tree storage pool = _pools[Role.Provider][modelId];
        return pool.size() - (pool.weightOf(exclude) == 0 ? 0 : 1);
    }

    /// @inheritdoc IStakeRegistry
    function totalValidatorWeight(bytes32 evaluatorId) external view returns (uint256) {
        return _pools[Role.Validator][evaluatorId].total();
    }

    /// @inheritdoc IStakeRegistry
    function minStake(Role role) external view returns (uint256) {
        return _minStake[role];
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IStakeRegistry
    function setPenaltyPolicy(uint256 misses, uint256 blocks, uint256 window) external onlyOwner {
        if (misses == 0 || misses > MAX_JAIL_AFTER_MISSES) revert ParameterOutOfBounds("jailAfterMisses", misses);
        if (blocks == 0 || blocks > MAX_COOLDOWN_BLOCKS) revert ParameterOutOfBounds("jailBlocks", blocks);
        if (window == 0 || window > MAX_COOLDOWN_BLOCKS) revert ParameterOutOfBounds("equivocationWindow", window);
        jailAfterMisses = misses;
        jailBlocks = blocks;
        equivocationWindow = window;
        emit PenaltyPolicySet(misses, blocks, window);
    }

    /// @inheritdoc IStakeRegistry
    function setTaskMarket(address market) external onlyOwner {
        if (taskMarket != address(0) || market == address(0)) revert TaskMarketAlreadySet();
        _checkCooldown(market, unstakeCooldown);
        taskMarket = market;
        emit TaskMarketSet(market);
    }

    /// @inheritdoc IStakeRegistry
    function setMinStake(Role role, uint256 amount) external onlyOwner {
        _setMinStake(role, amount);
    }

    /// @inheritdoc IStakeRegistry
    function setUnstakeCooldown(uint256 blocks) external onlyOwner {
        if (blocks == 0 || blocks > MAX_COOLDOWN_BLOCKS) revert ParameterOutOfBounds("unstakeCooldown", blocks);
        if (taskMarket != address(0)) _checkCooldown(taskMarket, blocks);
        unstakeCooldown = blocks;
        emit UnstakeCooldownSet(blocks);
    }

    // ---------------------------------------------------------------- internal

    function _setMinStake(Role role, uint256 amount) private {
        if (role == Role.None) revert InvalidRole();
        if (amount == 0 || amount > type(uint128).max) revert ParameterOutOfBounds("minStake", amount);
        _minStake[role] = amount;
        emit MinStakeSet(role, amount);
    }

    /// @dev The cooldown must outlast every task the stake can be assigned to, or a staker could exit before a
    /// slash that its open task still owes (locks cover assigned tasks; the cooldown also covers late reports).
    function _checkCooldown(address market, uint256 blocks) private view {
        uint256 lifetime = ITaskMarket(market).maxTaskLifetime();
        if (blocks <= lifetime) revert ParameterOutOfBounds("unstakeCooldown", blocks);
    }

    /// @dev A draw reads a finished block only: the state of the current block can still change after the seed
    /// is known.
    function _checkSnapshot(uint256 snapshotBlock) private view {
        if (snapshotBlock >= block.number) revert SnapshotNotFinal(snapshotBlock);
    }

    function _weight(StakeInfo memory info) private view returns (uint256) {
        if (info.unstakeBlock != 0 || info.jailedUntil != 0 || info.amount < _minStake[info.role]) return 0;
        return info.amount;
    }

    /// @dev Brings every sortition pool of `staker` in line with its account.
    function _syncWeight(address staker, StakeInfo memory info) private {
        uint256 weight = _weight(info);
        bytes32[] storage ids = _registrations[staker];
        for (uint256 i; i < ids.length; ++i) {
            _pools[info.role][ids[i]].set(staker, weight);
        }
    }

    /// @dev Adds `id` (a model for a provider, an evaluator for a validator) and joins its pool.
    function _register(Role role, bytes32 id) private {
        StakeInfo memory info = _stakes[msg.sender];
        if (info.role != role) revert WrongRole(msg.sender, role);
        bytes32[] storage ids = _registrations[msg.sender];
        uint256 n = ids.length;
        for (uint256 i; i < n; ++i) {
            if (ids[i] == id) revert AlreadyRegistered(id);
        }
        if (n == MAX_REGISTRATIONS) revert TooManyRegistrations();
        ids.push(id);
        _pools[role][id].set(msg.sender, _weight(info));
        if (role == Role.Provider) emit ModelRegistered(msg.sender, id);
        else emit EvaluatorJoined(msg.sender, id);
    }

    /// @dev Removes `id` and leaves its pool; assignments already drawn stay locked until they settle.
    function _unregister(Role role, bytes32 id) private {
        if (_stakes[msg.sender].role != role) revert WrongRole(msg.sender, role);
        bytes32[] storage ids = _registrations[msg.sender];
        uint256 n = ids.length;
        for (uint256 i; i < n; ++i) {
            if (ids[i] == id) {
                ids[i] = ids[n - 1];
                ids.pop();
                _pools[role][id].set(msg.sender, 0);
                if (role == Role.Provider) emit ModelUnregistered(msg.sender, id);
                else emit EvaluatorLeft(msg.sender, id);
                return;
            }
        }
        revert NotRegistered(id);
    }
}
