// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {TypedSignatures} from "./signatures/TypedSignatures.sol";
import {GtinEntitlement} from "./entitlement/GtinEntitlement.sol";
import {Containers} from "./aggregation/Containers.sol";
import {ItemLeaf} from "./libraries/ItemLeaf.sol";

/// @title TraceRegistry
/// @notice Commitments of "one item, one code" traceability: registered organisations,
/// batch attestations (Merkle root of item serials) on GTINs the attester is entitled to,
/// per-batch event hash chains appended only by those with custody of the batch, recalls,
/// and cases and pallets packed from them ({Containers}).
/// @dev Not upgradeable on purpose: regulators and consumers verify against a fixed
/// address whose rules cannot change under them. A new version is a new deployment
/// with a new EIP-712 domain; old batches keep verifying against the old one.
/// Errors are named `Registry<Subject><Problem>` and carry the refused values (declared in
/// {ITraceRegistry}; OpenZeppelin's own keep their component prefix, e.g. `AccessControl…`).
contract TraceRegistry is ITraceRegistry, TypedSignatures, GtinEntitlement, Containers {
    /// @notice May suspend and reinstate organisations and recall any batch.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    /// @notice May submit what registered organisations signed (the platform's hot keys).
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");

    /// @dev GS1 AI (10) allows at most 20 characters.
    uint256 private constant _LOT_MAX_LENGTH = 20;
    /// @dev UN/CEFACT Rec. 20 codes are at most three characters; leave room for local ones.
    uint256 private constant _UNIT_MAX_LENGTH = 8;
    /// @dev GB/T 2260 codes are six digits and never start with 0.
    uint32 private constant _REGION_MIN = 100000;
    uint32 private constant _REGION_MAX = 999999;
    /// @dev Which organisation kinds may record which step: bit `8 * step + kind` is set when
    /// `kind` may record `step`. Mirrors `STEP_ACTORS` in `server/src/domain/step-actors.ts`
    /// byte for byte, Recalling (byte 11) last and empty: a recall is not an event.
    /// Cooperative 0x02, Processor 0x04, Logistics 0x08, Retailer 0x10, Inspector 0x20.
    uint96 private constant _STEP_ACTORS = 0x00_10_20_20_1C_0E_06_06_0E_02_02_02;

    mapping(address signer => Organisation organisation) private _organisations;
    mapping(bytes32 batchId => BatchRecord record) private _batches;
    /// @dev The key each retired key was rotated to. A batch keeps the key that attested it,
    /// so this is how the organisation's current key finds the batches of its earlier keys;
    /// it also marks a key as used for good, so no other organisation can take it over.
    mapping(address retiredSigner => address successor) private _successors;
    /// @dev The first key of the organisation a rotated-to key belongs to. Left zero for a key
    /// the organisation was registered with: such a key is its own origin, and registering
    /// stays as cheap as before.
    mapping(address signer => address origin) private _origins;
    /// @dev Inspectors (origins) a batch's cooperative or a regulator asked to inspect it.
    mapping(bytes32 batchId => mapping(address inspector => bool requested)) private _inspectionRequests;
    /// @dev Each container's state hash ({Containers}); last, so no earlier slot moved.
    mapping(bytes32 containerKey => bytes32 state) private _containers;

    /// @param admin the operating authority; holds DEFAULT_ADMIN_ROLE and grants the others
    constructor(address admin) TypedSignatures("OneItemOneCode", "2") {
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
        _origins[newSigner] = _originOf(currentSigner);
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

    /// @inheritdoc ITraceRegistry
    function requestInspectionAsRegulator(bytes32 batchId, address inspector) external onlyRole(REGULATOR_ROLE) {
        _requestInspection(batchId, inspector);
        emit InspectionRequested(batchId, inspector, msg.sender, 0, 0, "");
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
    function requestInspections(InspectionRequest[] calldata requests) external onlyRole(RELAYER_ROLE) {
        uint256 count = requests.length;
        if (count == 0) revert RegistryEmptySubmission();
        for (uint256 i = 0; i < count; ++i) {
            InspectionRequest calldata r = requests[i];
            _requireActive(r.requester);
            _requireBatchCooperative(r.batchId, r.requester);
            _requestInspection(r.batchId, r.inspector);
            _consumeSignature(r.requester, _inspectionRequestDigest(r), r.nonce, r.deadline, r.signature);
            emit InspectionRequested(r.batchId, r.inspector, r.requester, r.nonce, r.deadline, r.signature);
        }
    }

    /// @inheritdoc ITraceRegistry
    function recallBatch(RecallRequest calldata request) external onlyRole(RELAYER_ROLE) {
        _requireActive(request.attester);
        _requireBatchCooperative(request.batchId, request.attester);
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

    /// @inheritdoc ITraceRegistry
    function originOf(address signer) external view returns (address) {
        if (_organisations[signer].status == OrgStatus.None && _successors[signer] == address(0)) return address(0);
        return _originOf(signer);
    }

    /// @inheritdoc ITraceRegistry
    function inspectionRequested(bytes32 batchId, address inspector) external view returns (bool) {
        return _inspectionRequests[batchId][_originOf(inspector)];
    }

    // ---------------------------------------------------------------- internal

    function _attest(BatchAttestationRequest calldata r) private returns (bytes32 batchId) {
        Organisation storage org = _requireActive(r.attester);
        if (org.kind != OrgKind.Cooperative) revert RegistryOrganisationKindNotAllowed(r.attester, org.kind);
        _validateAttestationFields(r);
        _requireEntitled(r.attester, r.gtin);

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
        _requireGtinInRange(r.gtin);
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
        OrgKind kind = _requireActive(r.actor).kind;
        BizStep step = r.bizStep;
        if ((_STEP_ACTORS >> (8 * uint256(step) + uint256(kind))) & 1 == 0) {
            revert RegistryStepNotAllowed(r.actor, kind, step);
        }
        if (r.occurredAt == 0) revert RegistryOccurredAtZero();
        if (r.payloadCid.length == 0) revert RegistryPayloadCidEmpty();
        BatchRecord storage record = _batches[r.batchId];
        if (record.status == BatchStatus.None) revert RegistryBatchUnknown(r.batchId);

        address receiver = _checkCounterparty(r);
        _requireCustody(record, r);

        bytes32 digest = _eventDigest(r);
        _consumeSignature(r.actor, digest, r.nonce, r.deadline, r.signature);

        // A new shipping replaces any receiver named before: the batch went elsewhere.
        if (step == BizStep.Shipping) record.pendingReceiver = receiver;

        bytes32 newHead = keccak256(abi.encode(record.eventHead, digest));
        record.eventHead = newHead;
        emit EventRecorded(
            r.batchId,
            r.actor,
            r.bizStep,
            r.occurredAt,
            r.payloadCid,
            r.counterparty,
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

    /// @dev The receiver's origin for a shipping event (refusing a missing one, the actor's own
    /// organisation, or one that never receives); zero for any other step, which names none.
    function _checkCounterparty(EventRequest calldata r) private view returns (address receiver) {
        address counterparty = r.counterparty;
        if (r.bizStep != BizStep.Shipping) {
            if (counterparty != address(0)) revert RegistryCounterpartyUnexpected(r.bizStep, counterparty);
            return address(0);
        }
        receiver = _requireReceiver(r.batchId, r.actor, counterparty);
    }

    /// @dev The receiver's origin, refusing an organisation that never receives or the actor's
    /// own. Shared by batches and containers, whose custody moves alike.
    function _requireReceiver(
        bytes32 subject,
        address actor,
        address counterparty
    ) internal view override returns (address receiver) {
        OrgKind kind = _organisations[counterparty].kind;
        receiver = _originOf(counterparty);
        // An unknown address has kind None, which never receives; the zero address is unknown.
        if (!_kindRecords(kind, BizStep.Receiving) || receiver == _originOf(actor)) {
            revert RegistryReceiverInvalid(subject, counterparty);
        }
    }

    /// @dev Refuses a packer with no say about a batch whose items it packs: the custody an
    /// event of the batch needs ({_requireCustody}), without the handover a receiving makes.
    function _requireBatchCustody(bytes32 batchId, address actor, address origin) internal view override {
        BatchRecord storage record = _batches[batchId];
        if (record.status == BatchStatus.None) revert RegistryBatchUnknown(batchId);
        address attester = record.attester;
        if (actor == attester || origin == record.custodian || origin == _originOf(attester)) return;
        revert RegistryActorWithoutCustody(batchId, actor, BizStep.Packing);
    }

    function _kindRecords(OrgKind kind, BizStep step) internal pure override returns (bool) {
        return (_STEP_ACTORS >> (8 * uint256(step) + uint256(kind))) & 1 != 0;
    }

    function _containerStates() internal view override returns (mapping(bytes32 => bytes32) storage) {
        return _containers;
    }

    /// @dev Refuses an actor with no say about the batch. The cheap cases come first: the
    /// cooperative's own attesting key, then the custodian (one read each of two slots).
    /// A receiving by the receiver a shipping named completes the handover.
    function _requireCustody(BatchRecord storage record, EventRequest calldata r) private {
        address actor = r.actor;
        address attester = record.attester;
        if (actor == attester) return;
        address origin = _originOf(actor);
        BizStep step = r.bizStep;
        if (step == BizStep.Receiving) {
            address pending = record.pendingReceiver;
            if (pending != address(0) && pending == origin) {
                address from = record.custodian;
                if (from == address(0)) from = _originOf(attester);
                record.custodian = origin;
                record.pendingReceiver = address(0);
                emit CustodyTransferred(r.batchId, from, origin);
                return;
            }
        }
        if (origin == record.custodian || origin == _originOf(attester)) return;
        if ((step == BizStep.Inspecting || step == BizStep.Certifying) && _inspectionRequests[r.batchId][origin])
            return;
        revert RegistryActorWithoutCustody(r.batchId, actor, step);
    }

    /// @dev Refuses a signer that is not a key of the batch's cooperative (its attester or
    /// the key its organisation was rotated to since), or a batch never attested.
    function _requireBatchCooperative(bytes32 batchId, address signer) private view {
        BatchRecord storage record = _batches[batchId];
        if (record.status == BatchStatus.None) revert RegistryBatchUnknown(batchId);
        address attester = record.attester;
        if (attester != signer && _originOf(attester) != _originOf(signer)) {
            revert RegistryNotBatchAttester(batchId, signer);
        }
    }

    /// @dev Records that `inspector` (a registered inspector) was asked to inspect the batch.
    function _requestInspection(bytes32 batchId, address inspector) private {
        if (_batches[batchId].status == BatchStatus.None) revert RegistryBatchUnknown(batchId);
        OrgKind kind = _existingOrganisation(inspector).kind;
        if (kind != OrgKind.Inspector) revert RegistryOrganisationKindNotAllowed(inspector, kind);
        address origin = _originOf(inspector);
        if (_inspectionRequests[batchId][origin]) revert RegistryInspectionAlreadyRequested(batchId, inspector);
        _inspectionRequests[batchId][origin] = true;
    }

    function _relayerRole() internal pure override(GtinEntitlement, Containers) returns (bytes32) {
        return RELAYER_ROLE;
    }

    function _organisation(address signer) internal view override returns (Organisation storage) {
        return _organisations[signer];
    }

    function _originOf(address signer) internal view override(GtinEntitlement, Containers) returns (address) {
        address origin = _origins[signer];
        return origin == address(0) ? signer : origin;
    }

    function _existingOrganisation(address signer) internal view override returns (Organisation storage org) {
        org = _organisations[signer];
        if (org.status == OrgStatus.None) revert RegistryOrganisationUnknown(signer);
    }

    /// @dev Refuses a key that an organisation holds or held: a retired key stays retired.
    function _requireNeverRegistered(address signer) private view {
        if (_organisations[signer].status != OrgStatus.None || _successors[signer] != address(0)) {
            revert RegistryOrganisationAlreadyRegistered(signer);
        }
    }

    function _requireActive(
        address signer
    ) internal view override(GtinEntitlement, Containers) returns (Organisation storage org) {
        org = _existingOrganisation(signer);
        if (org.status != OrgStatus.Active) revert RegistryOrganisationSuspended(signer);
    }
}
