// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {TaskManager} from "../../src/TaskManager.sol";
import {TaskManagerExtension} from "../../src/TaskManagerExtension.sol";
import {ICoopTaskManager} from "../../src/interfaces/ICoopTaskManager.sol";

/// @dev Deploys a TaskManager the way deployCoop does: the extension first, then the manager that
/// forwards to it. Callers get the merged interface.
library DeployTaskManager {
    function deploy() internal returns (ICoopTaskManager) {
        return ICoopTaskManager(address(new TaskManager(address(new TaskManagerExtension()))));
    }
}
