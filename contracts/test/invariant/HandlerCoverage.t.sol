// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {TaskManagerInvariantBase} from "./TaskManager.invariant.t.sol";

/// @dev Guards the invariant suite against a handler that silently stops exercising the protocol:
/// a fixed pseudo-random walk through the handler must reach every successful path.
contract HandlerCoverageTest is TaskManagerInvariantBase {
    function test_handlerReachesEveryProtocolPath() public {
        for (uint256 i = 0; i < 1_500; ++i) {
            uint256 r = uint256(keccak256(abi.encode("walk", i)));
            uint256 action = r % 16;
            uint256 a = r >> 8;
            uint256 b = r >> 64;
            uint256 c = r >> 128;
            if (action == 0) handler.warp(a);
            else if (action == 1) handler.stake(a, b, c);
            else if (action == 2) handler.requestUnstake(a, b, c);
            else if (action == 3) handler.withdrawStake(a, b);
            else if (action == 4 || action == 5) handler.submit(a, b);
            else if (action == 6) handler.raiseAudit(a, b, c);
            else if (action == 7) handler.challengeDistribution(a, b);
            else if (action == 8) handler.vote(a, b, c % 2 == 0);
            else if (action == 9) handler.resolveAudit(a);
            else if (action == 10) handler.claimVoteReward(a);
            else if (action == 11) handler.postDistribution(a, b);
            else if (action == 12) handler.finalizeDistribution(a);
            else if (action == 13) handler.claim(a, b);
            else if (action == 15) handler.materialize(a, b);
            else if (c % 4 == 0) handler.failDistribution(a);
            else if (c % 4 == 1) handler.fundTask(a, b);
            else handler.stopAndWithdraw(a);
        }
        string[18] memory paths = [
            "submit.ok", "raiseAudit.ok", "challenge.ok", "vote.ok", "resolve.ok", "resolve.upheld", "voteReward.ok",
            "post.ok", "post.refused", "finalize.ok", "claim.ok", "withdrawStake.ok", "submitBatch.ok", "submitBatch.refused",
            "materialize.ok", "raiseAudit.batched.ok", "post.batchedPoster", "claim.batched.ok"
        ];
        for (uint256 k = 0; k < paths.length; ++k) {
            assertGt(handler.calls(keccak256(bytes(paths[k]))), 0, string.concat("never reached ", paths[k]));
        }
        check_conservationPerToken();
        check_noClaimPaidTwice();
        check_paidPerCycleWithinBountyPlusReturnedSlashes();
        check_oneVotePerNodePerAudit();
        check_noStakeWithdrawnWhileSlashable();
    }
}
