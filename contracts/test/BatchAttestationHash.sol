// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";

/// @title BatchAttestationHash
/// @notice Test-only: the EIP-712 struct hash of a batch attestation, written out field by
/// field from the type string, so tests sign what the type says rather than what the
/// registry's own encoder happens to do.
library BatchAttestationHash {
    /// @notice The struct hash of `r` under `typehash` (the registry's BATCH_ATTESTATION_TYPEHASH).
    function hashOf(bytes32 typehash, ITraceRegistry.BatchAttestationRequest memory r) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    typehash,
                    r.attester,
                    r.gtin,
                    keccak256(bytes(r.lot)),
                    r.itemsRoot,
                    r.itemCount,
                    r.quantityMilli,
                    keccak256(bytes(r.unit)),
                    r.harvestedAt,
                    keccak256(r.metadataCid),
                    r.nonce,
                    r.deadline
                )
            );
    }
}
