// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ItemLeaf
/// @notice The Merkle leaf of one item, built exactly as `@openzeppelin/merkle-tree`'s
/// StandardMerkleTree builds a leaf of type `["string"]`, so any OpenZeppelin-compatible
/// library can produce and check item proofs.
library ItemLeaf {
    /// @dev Double hashing keeps a leaf from ever equalling an inner node (second-preimage
    /// defence), the same as the library does.
    function hash(string calldata serial) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(serial))));
    }
}
