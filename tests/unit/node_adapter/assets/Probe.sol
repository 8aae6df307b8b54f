// SPDX-License-Identifier: Apache-2.0
// Test contract for node_adapter: reverts of every kind and an event to index.
pragma solidity 0.8.28;

contract Probe {
    error NotAllowed(bytes32 id, address account);
    error Empty();

    event Poked(bytes32 indexed tag, address indexed sender, uint256 value, uint64 at);

    uint256 public counter;
    mapping(bytes32 => uint256) public values;

    function poke(bytes32 tag, uint256 value) external {
        counter += 1;
        values[tag] = value;
        emit Poked(tag, msg.sender, value, uint64(block.timestamp));
    }

    function failCustom(bytes32 id) external view {
        revert NotAllowed(id, msg.sender);
    }

    function failEmpty() external pure {
        revert Empty();
    }

    function failReason(string calldata reason) external pure {
        revert(reason);
    }

    function failPanic(uint256 a) external pure returns (uint256) {
        return 10 / a;
    }

    function requirePositive(uint256 a) external {
        require(a > 0, "must be positive");
        counter += a;
    }

    function now_() external view returns (uint64) {
        return uint64(block.timestamp);
    }
}
