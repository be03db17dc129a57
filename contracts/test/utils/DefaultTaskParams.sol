// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ITaskManager} from "../../src/interfaces/ITaskManager.sol";

/// @dev The task parameters every test starts from: 100 s rounds (submit 30 s, audits until 50 s,
/// votes 40 s), 50% slash, 10% false-accusation penalty, 30% to the case winner, 30% to voters,
/// 2 dues rounds, audit floor 10%, decay 4, 3 distribution attempts, 3 unbonding rounds.
library DefaultTaskParams {
    uint256 internal constant MIN_STAKE = 100e18;
    uint256 internal constant BOUNTY_PER_ROUND = 1_000e18;

    function build(IERC20 stakeToken, IERC20 rewardToken) internal pure returns (ITaskManager.TaskParams memory p) {
        p.programCid = keccak256("program");
        p.stakeToken = stakeToken;
        p.rewardToken = rewardToken;
        p.minStake = MIN_STAKE;
        p.bountyPerRound = BOUNTY_PER_ROUND;
        p.roundLength = 100;
        p.submissionWindow = 30;
        p.auditWindow = 50;
        p.voteWindow = 40;
        p.distributionWindow = 20;
        p.distributionAuditWindow = 20;
        p.slashBps = 5_000;
        p.falseAccusationBps = 1_000;
        p.winnerBps = 3_000;
        p.votersBps = 3_000;
        p.duesRounds = 2;
        p.auditFloorBps = 1_000;
        p.auditDecay = 4;
        p.auditorsPerSample = 2;
        p.maxDistributionAttempts = 3;
        p.unbondingRounds = 3;
    }
}
