// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BenchERC721
/// @notice Bench-only peer: the plainest "one token per item" ledger, an OpenZeppelin
/// ERC-721 minting each item with `_mint`. Owner-gated like the registry's relayer entry
/// points, so both pay the same kind of access check per transaction.
/// @dev Never deployed outside `npm run bench`.
contract BenchERC721 is ERC721, Ownable {
    constructor(address initialOwner) ERC721("Bench Item", "ITEM") Ownable(initialOwner) {}

    /// @notice Mints one item token.
    function mint(address to, uint256 tokenId) external onlyOwner {
        _mint(to, tokenId);
    }

    /// @notice Mints `count` item tokens with consecutive ids from `firstTokenId`, one `_mint` each.
    function mintRange(address to, uint256 firstTokenId, uint256 count) external onlyOwner {
        uint256 end = firstTokenId + count;
        for (uint256 tokenId = firstTokenId; tokenId < end; ++tokenId) {
            _mint(to, tokenId);
        }
    }
}
