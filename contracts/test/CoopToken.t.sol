// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {CoopToken} from "../src/CoopToken.sol";
import {TestBase} from "./utils/TestBase.sol";

contract CoopTokenTest is TestBase {
    CoopToken internal token;
    uint256 internal constant OWNER_KEY = 0xA11CE;
    address internal owner;

    function setUp() public {
        vm.warp(1_700_000_000);
        owner = vm.addr(OWNER_KEY);
        token = new CoopToken("Coop", "COOP", owner, 1_000_000e18);
    }

    function test_constructor_mintsSupplyToHolder() public view {
        assertEq(token.totalSupply(), 1_000_000e18, "supply");
        assertEq(token.balanceOf(owner), 1_000_000e18, "holder");
        assertEq(keccak256(bytes(token.symbol())), keccak256("COOP"), "symbol");
    }

    function test_permit_setsAllowanceFromSignature() public {
        address spender = address(0xBEEF);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                spender,
                123,
                token.nonces(owner),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, digest);
        token.permit(owner, spender, 123, deadline, v, r, s);
        assertEq(token.allowance(owner, spender), 123, "allowance");
        assertEq(token.nonces(owner), 1, "nonce used");
        vm.expectRevert();
        token.permit(owner, spender, 123, deadline, v, r, s); // replay
    }

    function test_votes_followDelegationWithTimestampClock() public {
        address delegatee = address(0xD00D);
        vm.prank(owner);
        token.delegate(delegatee);
        assertEq(token.getVotes(delegatee), 1_000_000e18, "votes");
        assertEq(token.clock(), block.timestamp, "timestamp clock");
        assertEq(keccak256(bytes(token.CLOCK_MODE())), keccak256("mode=timestamp"), "clock mode");
        vm.warp(block.timestamp + 10);
        vm.prank(owner);
        token.transfer(address(0x1), 1e18);
        assertEq(token.getPastVotes(delegatee, block.timestamp - 5), 1_000_000e18, "checkpointed");
        assertEq(token.getVotes(delegatee), 999_999e18, "moved with the transfer");
    }
}
