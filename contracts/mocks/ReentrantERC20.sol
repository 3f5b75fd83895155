// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantERC20
/// @notice Test token whose `transfer` / `transferFrom` call back into a configurable target with configurable
///         calldata BEFORE moving the tokens (the most dangerous ordering for the caller), recording whether the
///         re-entrant call reverted. It models a malicious or hook-bearing token re-entering claim / withdraw /
///         finalize. A re-entry never nests (one callback per outer transfer) and never bubbles its revert, so the
///         outer transfer completes and the test can check both the outcome of the re-entry and the balances.
contract ReentrantERC20 is ERC20 {
    /// @notice Which token entry points trigger the callback.
    enum Trigger {
        None,
        Transfer,
        TransferFrom,
        Both
    }

    /// @notice The contract called back during a transfer.
    address public target;
    /// @notice The calldata of the callback.
    bytes public callData;
    /// @notice Which entry points trigger the callback.
    Trigger public trigger;
    /// @notice Number of callbacks made.
    uint256 public reentryCount;
    /// @notice Whether the most recent callback reverted.
    bool public lastReentryReverted;
    /// @notice Revert data (or return data) of the most recent callback.
    bytes public lastReentryResult;

    bool private _inCallback;

    /// @notice Emitted after every callback.
    /// @param target The called contract.
    /// @param reverted Whether the call reverted.
    /// @param result The revert or return data.
    event Reentered(address indexed target, bool reverted, bytes result);

    constructor() ERC20("Reentrant", "REE") {}

    /// @notice Mints `amount` tokens to `to` (never calls back). Anyone can mint: test use only.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the callback.
    /// @param target_ The contract to call back.
    /// @param callData_ The calldata to send it.
    /// @param trigger_ Which entry points trigger it (None disarms).
    function arm(address target_, bytes calldata callData_, Trigger trigger_) external {
        target = target_;
        callData = callData_;
        trigger = trigger_;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (trigger == Trigger.Transfer || trigger == Trigger.Both) _callBack();
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (trigger == Trigger.TransferFrom || trigger == Trigger.Both) _callBack();
        return super.transferFrom(from, to, value);
    }

    /// @dev Calls the target once (no nesting) and records the outcome instead of bubbling a revert.
    function _callBack() private {
        if (_inCallback || target == address(0)) return;
        _inCallback = true;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = target.call(callData);
        _inCallback = false;
        ++reentryCount;
        lastReentryReverted = !ok;
        lastReentryResult = result;
        emit Reentered(target, !ok, result);
    }
}
