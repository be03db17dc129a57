// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @dev Lower bounds for the gas benchmarks (bench/carp-gas.ts), measured in the same run as ours:
/// the least a contract can do to record a node's 32-byte round root, or one vote, on-chain.
contract GasBaselines {
    mapping(uint256 taskId => mapping(uint256 cycle => mapping(address node => bytes32))) public roots;
    mapping(uint256 auditId => mapping(address voter => uint8)) public votes;
    mapping(uint256 auditId => uint256) public tally;

    event Anchored(uint256 indexed taskId, uint256 indexed cycle, address indexed node, bytes32 root);
    event Voted(uint256 indexed auditId, address indexed voter, uint8 side);

    function anchor(uint256 taskId, uint256 cycle, bytes32 root) external {
        roots[taskId][cycle][msg.sender] = root;
        emit Anchored(taskId, cycle, msg.sender, root);
    }

    function vote(uint256 auditId, uint8 side) external {
        votes[auditId][msg.sender] = side;
        tally[auditId] += 1;
        emit Voted(auditId, msg.sender, side);
    }
}
