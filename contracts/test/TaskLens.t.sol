// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AuditSampling} from "../src/libraries/AuditSampling.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";

contract TaskLensTest is TaskManagerFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = createDefaultTask();
        joinAll(taskId);
    }

    function test_isSampled_newNodesAreAlwaysAuditedDuringDues() public {
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, nodes4());
        assertFalse(lens.isSampled(taskId, 0, alice), "unknown before the seed");
        warpPastSubmission(taskId, 0);
        manager.recordSeed(taskId, 0);
        address[] memory list = nodes4();
        for (uint256 i = 0; i < list.length; ++i) {
            assertEq(lens.auditProbabilityBps(taskId, 0, list[i]), 10_000, "dues: 100%");
            assertTrue(lens.isSampled(taskId, 0, list[i]), "sampled");
        }
    }

    function test_auditProbability_decaysAfterDuesTowardTheFloor() public {
        address[] memory list = nodes4();
        for (uint256 c = 0; c < 8; ++c) {
            warpToSubmission(taskId, c);
            submitAll(taskId, c, list);
        }
        // Cycle 7 was submitted with score 7 (dues 2, decay 4): 4 / (4 + 5) = 44.44%.
        assertEq(lens.auditProbabilityBps(taskId, 7, alice), 4_444, "decayed");
        assertEq(AuditSampling.auditProbabilityBps(1_000, 2, 1_000, 4), 1_000, "floor");
    }

    function test_auditorsOf_assignsOtherSubmitters() public {
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, nodes4());
        warpPastSubmission(taskId, 0);
        manager.recordSeed(taskId, 0);
        address[] memory auditors = lens.auditorsOf(taskId, 0, bob);
        assertEq(auditors.length, 2, "auditorsPerSample");
        assertTrue(auditors[0] != bob && auditors[1] != bob, "never self");
        assertTrue(auditors[0] != auditors[1], "distinct");
    }

    function test_selectedDistributor_isASubmitterAndAcceptedByTheManager() public {
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, nodes4());
        warpToDistribution(taskId, 0);
        (address none,) = lens.selectedDistributor(taskId, 0, 0);
        assertEq(none, address(0), "no seed yet");
        address poster = postAsSelected(taskId, 0, equalPayouts(taskId, 0, nodes4()));
        assertEq(manager.getCycle(taskId, 0).poster, poster, "the lens's choice is the manager's");
    }
}
