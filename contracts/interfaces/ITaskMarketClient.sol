// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITaskMarket} from "./ITaskMarket.sol";
import {ITaskViews} from "./ITaskViews.sol";

/// @title ITaskMarketClient
/// @notice Everything callable at a TaskMarket's address: its own calls and getters (ITaskMarket) and the views
/// its TaskViews module serves there (ITaskViews). Clients build their ABI from this interface.
// solhint-disable-next-line no-empty-blocks
interface ITaskMarketClient is ITaskMarket, ITaskViews {}
