// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "./interfaces/ITaskMarket.sol";

/// @title RelayBatcher
/// @notice Relays a batch of signed commits or reveals to a TaskMarket one item at a time, so that an item that
/// fails (front-run by the member's own transaction, expired, signed by someone else, sent after its phase) is
/// skipped with an event naming its error instead of reverting the rest. Stateless and permissionless: the
/// signatures carry the authority, so who sends the batch does not matter. A separate contract so that the market
/// stays under the 24 KiB code limit (its own commitBySig/revealBySig stay atomic). `revealAndFinalize` is the
/// shipped relayer's reveal transaction: a committee's reveals and the finalize they make possible, in one.
contract RelayBatcher {
    /// @notice Emitted when item `index` of a batch failed and was skipped; `reason` is the selector of its custom
    /// error (for example AlreadyCommitted, SignatureExpired, InvalidSigner, CommitPhaseClosed).
    event RelayedItemSkipped(address indexed market, uint256 indexed taskId, uint256 index, bytes4 reason);

    /// @notice Emitted when task `taskId` of a revealAndFinalize could not be finalized (its reveals still landed);
    /// `reason` is the selector of the market's error (for example FinalizeTooEarly, InvalidStatus).
    event FinalizeSkipped(address indexed market, uint256 indexed taskId, bytes4 reason);

    /// @notice Thrown for an empty batch.
    error EmptyBatch();

    /// @notice A finalize ran out of gas: the whole transaction reverts rather than land the reveals without it, so
    /// that a gas estimate (the lowest limit that does not revert) always covers the finalize.
    error FinalizeOutOfGas(uint256 taskId);

    /// @notice Relays signed reveals to `market` atomically (its revealBySig: one bad item reverts the whole call,
    /// so the sender simulates first), then finalizes each task of `finalizeIds`, typically the tasks whose last
    /// reveals this batch carries. A finalize the market refuses is skipped with an event and the reveals stay;
    /// returns how many tasks were finalized. The finalize reads the member slots the reveals just wrote (warm), and
    /// no separate transaction pays the 21,000 base cost.
    function revealAndFinalize(
        ITaskMarket market,
        ITaskMarket.SignedReveal[] calldata reveals,
        uint256[] calldata finalizeIds
    ) external returns (uint256 finalized) {
        market.revealBySig(reveals);
        for (uint256 i; i < finalizeIds.length; ++i) {
            try market.finalize(finalizeIds[i]) {
                ++finalized;
            } catch (bytes memory reason) {
                // Every refusal of finalize is a custom error (or a panic): empty data is running out of gas.
                if (reason.length == 0) revert FinalizeOutOfGas(finalizeIds[i]);
                emit FinalizeSkipped(address(market), finalizeIds[i], _selector(reason));
            }
        }
    }

    /// @notice Relays each signed commit to `market`; returns how many landed.
    function commitEach(ITaskMarket market, ITaskMarket.SignedCommit[] calldata commits)
        external
        returns (uint256 landed)
    {
        if (commits.length == 0) revert EmptyBatch();
        ITaskMarket.SignedCommit[] memory one = new ITaskMarket.SignedCommit[](1);
        for (uint256 i; i < commits.length; ++i) {
            one[0] = commits[i];
            try market.commitBySig(one) {
                ++landed;
            } catch (bytes memory reason) {
                emit RelayedItemSkipped(address(market), commits[i].taskId, i, _selector(reason));
            }
        }
    }

    /// @notice Relays each signed reveal to `market`; returns how many landed.
    function revealEach(ITaskMarket market, ITaskMarket.SignedReveal[] calldata reveals)
        external
        returns (uint256 landed)
    {
        if (reveals.length == 0) revert EmptyBatch();
        ITaskMarket.SignedReveal[] memory one = new ITaskMarket.SignedReveal[](1);
        for (uint256 i; i < reveals.length; ++i) {
            one[0] = reveals[i];
            try market.revealBySig(one) {
                ++landed;
            } catch (bytes memory reason) {
                emit RelayedItemSkipped(address(market), reveals[i].taskId, i, _selector(reason));
            }
        }
    }

    /// @dev The first four bytes of revert data (zero for an empty revert, e.g. out of gas in the item).
    function _selector(bytes memory reason) private pure returns (bytes4 selector) {
        if (reason.length < 4) return bytes4(0);
        assembly ("memory-safe") {
            selector := mload(add(reason, 32))
        }
    }
}
