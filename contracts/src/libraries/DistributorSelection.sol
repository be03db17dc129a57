// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ProtocolConstants as C} from "./ProtocolConstants.sol";

/// @title DistributorSelection
/// @notice Who computes a cycle's distribution list: a weighted draw (weight = stake × reputation
/// factor, snapshotted at submission) over the cycle's submitters, one draw per attempt.
/// TS twin: packages/protocol/src/distributor-selection.ts. Vectors: .../vectors/selection.json.
library DistributorSelection {
    /// @notice The point drawn for `attempt`, uniform in [0, totalWeight).
    function drawPoint(bytes32 seed, uint256 taskId, uint256 cycle, uint256 attempt, uint256 totalWeight)
        internal
        pure
        returns (uint256)
    {
        return uint256(keccak256(abi.encode(C.DISTRIBUTOR_TAG, seed, taskId, cycle, attempt))) % totalWeight;
    }

    /// @notice Whether the submitter whose weight interval is [lowerCumulative, upperCumulative)
    /// contains `point`. O(1) on-chain check of an index the poster supplies.
    function covers(uint256 point, uint256 lowerCumulative, uint256 upperCumulative) internal pure returns (bool) {
        return lowerCumulative <= point && point < upperCumulative;
    }

    /// @notice The selected index given the cumulative weights (strictly: cumulative[i] = sum of
    /// weights 0..i). Binary search for the first cumulative weight above the drawn point.
    function select(bytes32 seed, uint256 taskId, uint256 cycle, uint256 attempt, uint256[] memory cumulative)
        internal
        pure
        returns (uint256)
    {
        uint256 n = cumulative.length;
        return indexAt(drawPoint(seed, taskId, cycle, attempt, cumulative[n - 1]), cumulative);
    }

    /// @notice The first index whose cumulative weight is above `point` (binary search).
    function indexAt(uint256 point, uint256[] memory cumulative) internal pure returns (uint256) {
        uint256 lo = 0;
        uint256 hi = cumulative.length - 1;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (cumulative[mid] > point) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
}
