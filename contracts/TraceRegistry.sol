// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {TypedSignatures} from "./signatures/TypedSignatures.sol";
import {ItemLeaf} from "./libraries/ItemLeaf.sol";

/// @title TraceRegistry
/// @notice Commitments of "one item, one code" traceability: registered organisations,
/// batch attestations (Merkle root of item serials), per-batch event hash chains, recalls.
/// @dev Not upgradeable on purpose: regulators and consumers verify against a fixed
/// address whose rules cannot change under them. A new version is a new deployment
/// with a new EIP-712 domain; old batches keep verifying against the old one.
/// Errors are named `Registry<Subject><Problem>` and carry the refused values (declared in
/// {ITraceRegistry}; OpenZeppelin's own keep their component prefix, e.g. `AccessControl…`).
contract TraceRegistry is ITraceRegistry, TypedSignatures, AccessControl {
    /// @notice May suspend and reinstate organisations and recall any batch.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    /// @notice May submit what registered organisations signed (the platform's hot keys).
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");

    /// @dev GTIN-14 has at most 14 digits.
    uint64 private constant _GTIN_LIMIT = 1e14;
    /// @dev GS1 AI (10) allows at most 20 characters.
    uint256 private constant _LOT_MAX_LENGTH = 20;
    /// @dev UN/CEFACT Rec. 20 codes are at most three characters; leave room for local ones.
    uint256 private constant _UNIT_MAX_LENGTH = 8;
    /// @dev GB/T 2260 codes are six digits and never start with 0.
    uint32 private constant _REGION_MIN = 100000;
    uint32 private constant _REGION_MAX = 999999;

    mapping(address signer => Organisation organisation) private _organisations;
    mapping(bytes32 batchId => BatchRecord record) private _batches;
    /// @dev The key each retired key was rotated to. A batch keeps the key that attested it,
    /// so this is how the organisation's current key finds the batches of its earlier keys;
    /// it also marks a key as used for good, so no other organisation can take it over.
    mapping(address retiredSigner => address successor) private _successors;

    /// @param admin the operating authority; holds DEFAULT_ADMIN_ROLE and grants the others
    constructor(address admin) TypedSignatures("OneItemOneCode", "1") {
        if (admin == address(0)) revert RegistryAdminZero();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc ITraceRegistry
    function registerOrganisation(
        address signer,
        OrgKind kind,
        uint32 regionCode,
        bytes calldata metadataCid
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (signer == address(0)) revert RegistrySignerZero();
        if (kind == OrgKind.None) revert RegistryKindNone();
        if (regionCode < _REGION_MIN || regionCode > _REGION_MAX) {
            revert RegistryRegionCodeOutOfRange(regionCode, _REGION_MIN, _REGION_MAX);
        }
        if (metadataCid.length == 0) revert RegistryMetadataCidEmpty();
        _requireNeverRegistered(signer);

        _organisations[signer] = Organisation({
            signer: signer,
            kind: kind,
            status: OrgStatus.Active,
            regionCode: regionCode,
            metadataCid: metadataCid
        });
        emit OrganisationRegistered(signer, kind, regionCode, metadataCid);
    }

    /// @inheritdoc ITraceRegistry
    function rotateSigner(address currentSigner, address newSigner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newSigner == address(0)) revert RegistrySignerZero();
        Organisation storage current = _existingOrganisation(currentSigner);
        _requireNeverRegistered(newSigner);

        Organisation memory moved = current;
        moved.signer = newSigner;
        _organisations[newSigner] = moved;
        delete _organisations[currentSigner];
        _successors[currentSigner] = newSigner;
        emit SignerRotated(currentSigner, newSigner);
    }

    // ---------------------------------------------------------------- regulator

    /// @inheritdoc ITraceRegistry
    function suspendOrganisation(address signer, bytes calldata reasonCid) external onlyRole(REGULATOR_ROLE) {
        if (reasonCid.length == 0) revert RegistryReasonCidEmpty();
        Organisation storage org = _existingOrganisation(signer);
        if (org.status == OrgStatus.Suspended) revert RegistryOrganisationSuspended(signer);
        org.status = OrgStatus.Suspended;
        emit OrganisationSuspended(signer, msg.sender, reasonCid);
    }

    /// @inheritdoc ITraceRegistry
    function reinstateOrganisation(address signer, bytes calldata reasonCid) external onlyRole(REGULATOR_ROLE) {
        if (reasonCid.length == 0) revert RegistryReasonCidEmpty();
        Organisation storage org = _existingOrganisation(signer);
        if (org.status != OrgStatus.Suspended) revert RegistryOrganisationNotSuspended(signer);
        org.status = OrgStatus.Active;
        emit OrganisationReinstated(signer, msg.sender, reasonCid);
    }

    /// @inheritdoc ITraceRegistry
    function recallBatchAsRegulator(bytes32 batchId, bytes calldata reasonCid) external onlyRole(REGULATOR_ROLE) {
        _recall(batchId, reasonCid);
        emit BatchRecalled(batchId, msg.sender, reasonCid, "");
    }

    // ---------------------------------------------------------------- relayer

    /// @inheritdoc ITraceRegistry
    function attestBatches(
        BatchAttestationRequest[] calldata requests
    ) external onlyRole(RELAYER_ROLE) returns (bytes32[] memory batchIds) {
        uint256 count = requests.length;
        if (count == 0) revert RegistryEmptySubmission();
        batchIds = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            batchIds[i] = _attest(requests[i]);
        }
    }

    /// @inheritdoc ITraceRegistry
    function recordEvents(EventRequest[] calldata requests) external onlyRole(RELAYER_ROLE) {
        uint256 count = requests.length;
        if (count == 0) revert RegistryEmptySubmission();
        for (uint256 i = 0; i < count; ++i) {
            _recordEvent(requests[i]);
        }
    }

    /// @inheritdoc ITraceRegistry
    function recallBatch(RecallRequest calldata request) external onlyRole(RELAYER_ROLE) {
        _requireActive(request.attester);
        BatchRecord storage record = _batches[request.batchId];
        address attester = record.attester;
        if (attester != request.attester) {
            // Unknown batches fall here too: their attester is the zero address.
            if (record.status == BatchStatus.None) revert RegistryBatchUnknown(request.batchId);
            if (_currentSigner(attester) != request.attester)
                revert RegistryNotBatchAttester(request.batchId, request.attester);
        }
        _consumeSignature(request.attester, _recallDigest(request), request.nonce, request.deadline, request.signature);
        _recall(request.batchId, request.reasonCid);
        emit BatchRecalled(request.batchId, request.attester, request.reasonCid, request.signature);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITraceRegistry
    function batchIdOf(uint64 gtin, string calldata lot) public pure returns (bytes32) {
        return keccak256(abi.encode(gtin, lot));
    }

    /// @inheritdoc ITraceRegistry
    function organisation(address signer) external view returns (Organisation memory) {
        return _organisations[signer];
    }

    /// @inheritdoc ITraceRegistry
    function batch(bytes32 batchId) external view returns (BatchRecord memory) {
        return _batches[batchId];
    }

    /// @inheritdoc ITraceRegistry
    function verifyItem(
        bytes32 batchId,
        string calldata serial,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return verifyItemLeaf(batchId, ItemLeaf.hash(serial), proof);
    }

    /// @inheritdoc ITraceRegistry
    function verifyItemLeaf(bytes32 batchId, bytes32 leaf, bytes32[] calldata proof) public view returns (bool) {
        bytes32 root = _batches[batchId].itemsRoot;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    // ---------------------------------------------------------------- internal

    function _attest(BatchAttestationRequest calldata r) private returns (bytes32 batchId) {
        Organisation storage org = _requireActive(r.attester);
        if (org.kind != OrgKind.Cooperative) revert RegistryOrganisationKindNotAllowed(r.attester, org.kind);
        _validateAttestationFields(r);

        batchId = batchIdOf(r.gtin, r.lot);
        BatchRecord storage record = _batches[batchId];
        if (record.status != BatchStatus.None) revert RegistryBatchAlreadyRegistered(batchId);

        _consumeSignature(r.attester, _batchAttestationDigest(r), r.nonce, r.deadline, r.signature);

        record.itemsRoot = r.itemsRoot;
        record.attester = r.attester;
        record.itemCount = r.itemCount;
        record.status = BatchStatus.Active;
        emit BatchAttested(
            batchId,
            r.attester,
            r.gtin,
            r.lot,
            r.itemsRoot,
            r.itemCount,
            r.quantityMilli,
            r.unit,
            r.harvestedAt,
            r.metadataCid,
            r.nonce,
            r.deadline,
            r.signature
        );
    }

    function _validateAttestationFields(BatchAttestationRequest calldata r) private view {
        if (r.gtin == 0 || r.gtin >= _GTIN_LIMIT) revert RegistryGtinOutOfRange(r.gtin, _GTIN_LIMIT);
        uint256 lotLength = bytes(r.lot).length;
        if (lotLength == 0) revert RegistryLotEmpty();
        if (lotLength > _LOT_MAX_LENGTH) revert RegistryLotTooLong(lotLength, _LOT_MAX_LENGTH);
        if (r.itemsRoot == bytes32(0)) revert RegistryItemsRootZero();
        if (r.itemCount == 0) revert RegistryItemCountZero();
        if (r.quantityMilli == 0) revert RegistryQuantityMilliZero();
        uint256 unitLength = bytes(r.unit).length;
        if (unitLength == 0) revert RegistryUnitEmpty();
        if (unitLength > _UNIT_MAX_LENGTH) revert RegistryUnitTooLong(unitLength, _UNIT_MAX_LENGTH);
        if (r.harvestedAt == 0) revert RegistryHarvestedAtZero();
        if (r.harvestedAt > block.timestamp) revert RegistryHarvestedAtInFuture(r.harvestedAt, block.timestamp);
        if (r.metadataCid.length == 0) revert RegistryMetadataCidEmpty();
    }

    function _recordEvent(EventRequest calldata r) private {
        _requireActive(r.actor);
        if (r.occurredAt == 0) revert RegistryOccurredAtZero();
        if (r.payloadCid.length == 0) revert RegistryPayloadCidEmpty();
        BatchRecord storage record = _batches[r.batchId];
        if (record.status == BatchStatus.None) revert RegistryBatchUnknown(r.batchId);

        bytes32 digest = _eventDigest(r);
        _consumeSignature(r.actor, digest, r.nonce, r.deadline, r.signature);

        bytes32 newHead = keccak256(abi.encode(record.eventHead, digest));
        record.eventHead = newHead;
        emit EventRecorded(
            r.batchId,
            r.actor,
            r.bizStep,
            r.occurredAt,
            r.payloadCid,
            r.nonce,
            r.deadline,
            r.signature,
            newHead
        );
    }

    function _recall(bytes32 batchId, bytes calldata reasonCid) private {
        if (reasonCid.length == 0) revert RegistryReasonCidEmpty();
        BatchRecord storage record = _batches[batchId];
        if (record.status == BatchStatus.None) revert RegistryBatchUnknown(batchId);
        if (record.status == BatchStatus.Recalled) revert RegistryBatchAlreadyRecalled(batchId);
        record.status = BatchStatus.Recalled;
    }

    function _existingOrganisation(address signer) private view returns (Organisation storage org) {
        org = _organisations[signer];
        if (org.status == OrgStatus.None) revert RegistryOrganisationUnknown(signer);
    }

    /// @dev Refuses a key that an organisation holds or held: a retired key stays retired.
    function _requireNeverRegistered(address signer) private view {
        if (_organisations[signer].status != OrgStatus.None || _successors[signer] != address(0)) {
            revert RegistryOrganisationAlreadyRegistered(signer);
        }
    }

    /// @dev The key that the organisation which held `signer` holds now. Ends: a rotation
    /// only ever leads to a key never registered before, so the links cannot form a cycle.
    function _currentSigner(address signer) private view returns (address current) {
        current = signer;
        address next = _successors[current];
        while (next != address(0)) {
            current = next;
            next = _successors[current];
        }
    }

    function _requireActive(address signer) private view returns (Organisation storage org) {
        org = _existingOrganisation(signer);
        if (org.status != OrgStatus.Active) revert RegistryOrganisationSuspended(signer);
    }
}
