// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ProtocolConstants as C} from "./ProtocolConstants.sol";

/// @title SlashSplit
/// @notice How slashed stake is shared after an audit resolves. The winner of the case (the auditor
/// when upheld, the wrongly accused node when rejected) takes `winnerBps`; the other voters on the
/// winning side share `votersBps` pro rata to their vote weight; the remainder returns to the
/// task's pool. Rounding dust always falls to the remainder, so shares never exceed the slash.
/// TS twin: packages/protocol/src/slash-split.ts. Vectors: packages/protocol/vectors/slash-split.json.
library SlashSplit {
    function split(uint256 slashed, uint256 winnerBps, uint256 votersBps, bool hasVoters)
        internal
        pure
        returns (uint256 toWinner, uint256 toVoters, uint256 toPool)
    {
        toWinner = (slashed * winnerBps) / C.BPS;
        toVoters = hasVoters ? (slashed * votersBps) / C.BPS : 0;
        toPool = slashed - toWinner - toVoters;
    }

    /// @notice One winning voter's share of the voters' pool.
    function voterShare(uint256 votersPool, uint256 voterWeight, uint256 winningVotersWeight)
        internal
        pure
        returns (uint256)
    {
        return winningVotersWeight == 0 ? 0 : (votersPool * voterWeight) / winningVotersWeight;
    }

    /// @notice Amount slashed from a stake at `bps`.
    function slashAmount(uint256 stake, uint256 bps) internal pure returns (uint256) {
        return (stake * bps) / C.BPS;
    }
}
