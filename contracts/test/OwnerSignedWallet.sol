// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title OwnerSignedWallet
/// @notice Test-only ERC-1271 contract wallet: it accepts a signature exactly when its
/// owner's key made it, the way a cooperative's smart-contract wallet would.
/// @dev OpenZeppelin's npm package ships no ERC-1271 mock, hence this one.
contract OwnerSignedWallet is IERC1271 {
    /// @dev Returned for a refused signature; any value but the ERC-1271 magic would do.
    bytes4 private constant _REFUSED = 0xffffffff;

    address private immutable _OWNER;

    constructor(address owner_) {
        _OWNER = owner_;
    }

    /// @notice The key whose signatures this wallet accepts.
    function owner() external view returns (address) {
        return _OWNER;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == _OWNER) return IERC1271.isValidSignature.selector;
        return _REFUSED;
    }
}
