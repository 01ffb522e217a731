// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";

/// @title TypedSignatures
/// @notice EIP-712 hashing, signature checks and unordered nonces for the registry, kept
/// apart so the registry reads as business logic.
/// @dev The typed-data definitions here are version "2" of the domain (version 2 added the
/// event's counterparty, GTIN grants and inspection requests); the TypeScript
/// table in `server/src/domain/typed-data.ts` mirrors them and a test recomputes each
/// typehash from its preimage. Its errors are the registry's (`Registry<Subject><Problem>`,
/// declared in {ITraceRegistry}): it is a part of the registry, never deployed alone.
abstract contract TypedSignatures is ITraceRegistry, EIP712 {
    // keccak256("BatchAttestation(address attester,uint64 gtin,string lot,bytes32 itemsRoot,uint32 itemCount,uint64 quantityMilli,string unit,uint64 harvestedAt,bytes metadataCid,uint256 nonce,uint64 deadline)")
    bytes32 public constant BATCH_ATTESTATION_TYPEHASH = keccak256(
        "BatchAttestation(address attester,uint64 gtin,string lot,bytes32 itemsRoot,uint32 itemCount,uint64 quantityMilli,string unit,uint64 harvestedAt,bytes metadataCid,uint256 nonce,uint64 deadline)"
    );

    // keccak256("TraceEvent(address actor,bytes32 batchId,uint8 bizStep,uint64 occurredAt,bytes payloadCid,address counterparty,uint256 nonce,uint64 deadline)")
    bytes32 public constant TRACE_EVENT_TYPEHASH = keccak256(
        "TraceEvent(address actor,bytes32 batchId,uint8 bizStep,uint64 occurredAt,bytes payloadCid,address counterparty,uint256 nonce,uint64 deadline)"
    );

    // keccak256("GtinGrant(address owner,uint64 gtin,address grantee,bool granted,uint256 nonce,uint64 deadline)")
    bytes32 public constant GTIN_GRANT_TYPEHASH = keccak256(
        "GtinGrant(address owner,uint64 gtin,address grantee,bool granted,uint256 nonce,uint64 deadline)"
    );

    // keccak256("InspectionRequest(address requester,bytes32 batchId,address inspector,uint256 nonce,uint64 deadline)")
    bytes32 public constant INSPECTION_REQUEST_TYPEHASH = keccak256(
        "InspectionRequest(address requester,bytes32 batchId,address inspector,uint256 nonce,uint64 deadline)"
    );

    // keccak256("Recall(address attester,bytes32 batchId,bytes reasonCid,uint256 nonce,uint64 deadline)")
    bytes32 public constant RECALL_TYPEHASH = keccak256(
        "Recall(address attester,bytes32 batchId,bytes reasonCid,uint256 nonce,uint64 deadline)"
    );

    // keccak256("ContainerPacking(address actor,bytes32 containerKey,bytes32 childrenRoot,uint32 childCount,bytes32[] batchIds,bytes32[] childContainers,uint64 occurredAt,bytes payloadCid,address counterparty,bytes32 previous,uint64 deadline)")
    bytes32 public constant CONTAINER_PACKING_TYPEHASH = keccak256(
        "ContainerPacking(address actor,bytes32 containerKey,bytes32 childrenRoot,uint32 childCount,bytes32[] batchIds,bytes32[] childContainers,uint64 occurredAt,bytes payloadCid,address counterparty,bytes32 previous,uint64 deadline)"
    );

    // keccak256("ContainerEvent(address actor,bytes32 containerKey,uint8 action,uint64 occurredAt,bytes payloadCid,address counterparty,bytes32 previous,uint64 deadline)")
    bytes32 public constant CONTAINER_EVENT_TYPEHASH = keccak256(
        "ContainerEvent(address actor,bytes32 containerKey,uint8 action,uint64 occurredAt,bytes payloadCid,address counterparty,bytes32 previous,uint64 deadline)"
    );

    /// @dev Unordered nonces, 256 to a word: a relayer may submit a signer's work in any
    /// order and a failed entry never blocks the ones after it, while a consecutive run
    /// of nonces costs one fresh slot per 256 uses.
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonceBits;

    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @inheritdoc ITraceRegistry
    function nonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonceBits[signer][nonce >> 8] & (uint256(1) << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc ITraceRegistry
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev The digest a cooperative signs for a batch attestation.
    function _batchAttestationDigest(BatchAttestationRequest calldata r) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        BATCH_ATTESTATION_TYPEHASH,
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
                )
            );
    }

    /// @dev The digest an organisation signs for a critical tracking event.
    function _eventDigest(EventRequest calldata r) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        TRACE_EVENT_TYPEHASH,
                        r.actor,
                        r.batchId,
                        uint8(r.bizStep),
                        r.occurredAt,
                        keccak256(r.payloadCid),
                        r.counterparty,
                        r.nonce,
                        r.deadline
                    )
                )
            );
    }

    /// @dev The digest a GTIN's owner signs to grant or withdraw it.
    function _gtinGrantDigest(GtinGrantRequest calldata r) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(GTIN_GRANT_TYPEHASH, r.owner, r.gtin, r.grantee, r.granted, r.nonce, r.deadline))
            );
    }

    /// @dev The digest a cooperative signs to ask an inspector to inspect its batch.
    function _inspectionRequestDigest(InspectionRequest calldata r) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(INSPECTION_REQUEST_TYPEHASH, r.requester, r.batchId, r.inspector, r.nonce, r.deadline)
                )
            );
    }

    /// @dev The digest a cooperative signs to recall its batch.
    function _recallDigest(RecallRequest calldata r) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(RECALL_TYPEHASH, r.attester, r.batchId, keccak256(r.reasonCid), r.nonce, r.deadline)
                )
            );
    }

    /// @dev The digest an organisation signs to pack a container.
    function _containerPackingDigest(ContainerPackRequest calldata r) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        CONTAINER_PACKING_TYPEHASH,
                        r.actor,
                        r.containerKey,
                        r.childrenRoot,
                        r.childCount,
                        keccak256(abi.encodePacked(r.batchIds)),
                        keccak256(abi.encodePacked(r.childContainers)),
                        r.occurredAt,
                        keccak256(r.payloadCid),
                        r.counterparty,
                        r.previous,
                        r.deadline
                    )
                )
            );
    }

    /// @dev The digest an organisation signs to unpack, ship or receive a container.
    function _containerEventDigest(ContainerEventRequest calldata r) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        CONTAINER_EVENT_TYPEHASH,
                        r.actor,
                        r.containerKey,
                        uint8(r.action),
                        r.occurredAt,
                        keccak256(r.payloadCid),
                        r.counterparty,
                        r.previous,
                        r.deadline
                    )
                )
            );
    }

    /// @dev Refuses an expired deadline or a signature `signer` did not make, spending no
    /// nonce: for requests that name the state they apply to, which they change, so the
    /// state link is what makes each usable once.
    function _checkLinkedSignature(
        address signer,
        bytes32 digest,
        uint64 deadline,
        bytes calldata signature
    ) internal view {
        if (block.timestamp > deadline) revert RegistrySignatureExpired(deadline, block.timestamp);
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, digest, signature)) {
            revert RegistrySignatureInvalid(signer, digest);
        }
    }

    /// @dev Refuses an expired deadline, a used nonce or a signature `signer` did not
    /// make (EOA via ECDSA, which rejects malleable signatures; contracts via ERC-1271),
    /// then marks the nonce used. The nonce, not the signature bytes, is what is spent.
    function _consumeSignature(
        address signer,
        bytes32 digest,
        uint256 nonce,
        uint64 deadline,
        bytes calldata signature
    ) internal {
        if (block.timestamp > deadline) revert RegistrySignatureExpired(deadline, block.timestamp);
        uint256 word = nonce >> 8;
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 bits = _nonceBits[signer][word];
        if (bits & bit != 0) revert RegistryNonceAlreadyUsed(signer, nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, digest, signature)) {
            revert RegistrySignatureInvalid(signer, digest);
        }
        _nonceBits[signer][word] = bits | bit;
    }
}
