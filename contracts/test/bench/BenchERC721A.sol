// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721A} from "erc721a/contracts/ERC721A.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BenchERC721A
/// @notice Bench-only peer: ERC721A, the cheapest per-item NFT, minting a whole batch of
/// items in one `_mint(to, quantity)`. Owner-gated like the registry's relayer entry points.
/// @dev Never deployed outside `npm run bench`.
contract BenchERC721A is ERC721A, Ownable {
    constructor(address initialOwner) ERC721A("Bench Item", "ITEM") Ownable(initialOwner) {}

    /// @notice Mints `quantity` item tokens with consecutive ids.
    function mint(address to, uint256 quantity) external onlyOwner {
        _mint(to, quantity);
    }
}
