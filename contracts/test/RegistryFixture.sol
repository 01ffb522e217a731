// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {TraceRegistry} from "../TraceRegistry.sol";
import {BatchAttestationHash} from "./BatchAttestationHash.sol";

/// @title RegistryFixture
/// @notice Test-only: a registry with its roles granted, a cooperative and a processor
/// registered, the cooperative's company prefix bound, one batch attested and handed over to
/// the processor (the cooperative's shipping naming it, its receiving), and the signed
/// requests the tests submit. The unit tests and the gas tests start from it.
abstract contract RegistryFixture is Test {
    uint32 internal constant _REGION = 530102;
    bytes internal constant _CID = hex"01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
    uint256 internal constant _SETUP_NONCE = 7;
    /// @dev The cooperative's nonce for the setup shipping (its attestation spent 7).
    uint256 internal constant _SETUP_SHIP_NONCE = 8;
    /// @dev The cooperative's GS1 company prefix "6901234" and a GTIN under it.
    uint64 internal constant _PREFIX = 6901234;
    uint8 internal constant _PREFIX_DIGITS = 7;
    uint64 internal constant _GTIN = 6901234567892;

    TraceRegistry internal _registry;
    address internal _admin;
    address internal _regulator;
    address internal _relayer;
    address internal _cooperative;
    uint256 internal _cooperativeKey;
    address internal _processor;
    uint256 internal _processorKey;
    bytes32 internal _batchId;
    bytes32 internal _adminRole;
    bytes32 internal _regulatorRole;
    bytes32 internal _relayerRole;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        _admin = makeAddr("admin");
        _regulator = makeAddr("regulator");
        _relayer = makeAddr("relayer");
        (_cooperative, _cooperativeKey) = makeAddrAndKey("cooperative");
        (_processor, _processorKey) = makeAddrAndKey("processor");

        _registry = new TraceRegistry(_admin);
        _adminRole = _registry.DEFAULT_ADMIN_ROLE();
        _regulatorRole = _registry.REGULATOR_ROLE();
        _relayerRole = _registry.RELAYER_ROLE();

        vm.startPrank(_admin);
        _registry.grantRole(_regulatorRole, _regulator);
        _registry.grantRole(_relayerRole, _relayer);
        _registry.registerOrganisation(_cooperative, ITraceRegistry.OrgKind.Cooperative, _REGION, _CID);
        _registry.registerOrganisation(_processor, ITraceRegistry.OrgKind.Processor, _REGION, _CID);
        _registry.bindCompanyPrefix(_PREFIX, _PREFIX_DIGITS, _cooperative);
        vm.stopPrank();

        _batchId = _attest("SETUP-LOT", keccak256("setup items"), _SETUP_NONCE);
        _handOver(_batchId, _SETUP_SHIP_NONCE, _processorKey, _processor, _SETUP_NONCE);
    }

    /// @dev The cooperative ships the batch naming `receiver`, which records its receiving.
    function _handOver(
        bytes32 batchId,
        uint256 shipNonce,
        uint256 receiverKey,
        address receiver,
        uint256 receiveNonce
    ) internal {
        _recordStep(_cooperativeKey, _cooperative, batchId, ITraceRegistry.BizStep.Shipping, receiver, shipNonce);
        _recordStep(receiverKey, receiver, batchId, ITraceRegistry.BizStep.Receiving, address(0), receiveNonce);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _typedDigest(bytes32 structHash) internal view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(_registry.domainSeparator(), structHash);
    }

    function _attestationRequest(
        uint64 gtin,
        string memory lot,
        bytes32 itemsRoot,
        uint256 nonce
    ) internal view returns (ITraceRegistry.BatchAttestationRequest memory) {
        return _attestationRequestBy(_cooperativeKey, _cooperative, gtin, lot, itemsRoot, nonce);
    }

    function _attestationRequestBy(
        uint256 key,
        address attester,
        uint64 gtin,
        string memory lot,
        bytes32 itemsRoot,
        uint256 nonce
    ) internal view returns (ITraceRegistry.BatchAttestationRequest memory r) {
        r = ITraceRegistry.BatchAttestationRequest({
            attester: attester,
            gtin: gtin,
            lot: lot,
            itemsRoot: itemsRoot,
            itemCount: 2,
            quantityMilli: 1_250_000,
            unit: "KGM",
            harvestedAt: uint64(block.timestamp - 1 days),
            metadataCid: _CID,
            nonce: nonce,
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        bytes32 structHash = BatchAttestationHash.hashOf(_registry.BATCH_ATTESTATION_TYPEHASH(), r);
        r.signature = _sign(key, _typedDigest(structHash));
    }

    function _attest(string memory lot, bytes32 itemsRoot, uint256 nonce) internal returns (bytes32) {
        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = _attestationRequest(_GTIN, lot, itemsRoot, nonce);
        vm.prank(_relayer);
        return _registry.attestBatches(requests)[0];
    }

    function _eventDigest(ITraceRegistry.EventRequest memory r) internal view returns (bytes32) {
        return
            _typedDigest(
                keccak256(
                    abi.encode(
                        _registry.TRACE_EVENT_TYPEHASH(),
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

    /// @dev A signed packing event (a step the cooperative and a processor may record).
    function _eventRequest(
        uint256 key,
        address actor,
        bytes32 batchId,
        uint256 nonce
    ) internal view returns (ITraceRegistry.EventRequest memory) {
        return _stepRequest(key, actor, batchId, ITraceRegistry.BizStep.Packing, address(0), nonce);
    }

    function _stepRequest(
        uint256 key,
        address actor,
        bytes32 batchId,
        ITraceRegistry.BizStep step,
        address counterparty,
        uint256 nonce
    ) internal view returns (ITraceRegistry.EventRequest memory r) {
        r = ITraceRegistry.EventRequest({
            actor: actor,
            batchId: batchId,
            bizStep: step,
            occurredAt: uint64(block.timestamp - 1 hours),
            payloadCid: _CID,
            counterparty: counterparty,
            nonce: nonce,
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        r.signature = _sign(key, _eventDigest(r));
    }

    function _recordEvent(uint256 key, address actor, bytes32 batchId, uint256 nonce) internal {
        _submitEvent(_eventRequest(key, actor, batchId, nonce));
    }

    function _recordStep(
        uint256 key,
        address actor,
        bytes32 batchId,
        ITraceRegistry.BizStep step,
        address counterparty,
        uint256 nonce
    ) internal {
        _submitEvent(_stepRequest(key, actor, batchId, step, counterparty, nonce));
    }

    function _submitEvent(ITraceRegistry.EventRequest memory request) internal {
        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
        requests[0] = request;
        vm.prank(_relayer);
        _registry.recordEvents(requests);
    }

    function _recallRequest(
        bytes32 batchId,
        bytes memory reasonCid,
        uint256 nonce
    ) internal view returns (ITraceRegistry.RecallRequest memory r) {
        r = ITraceRegistry.RecallRequest({
            attester: _cooperative,
            batchId: batchId,
            reasonCid: reasonCid,
            nonce: nonce,
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        bytes32 structHash = keccak256(
            abi.encode(_registry.RECALL_TYPEHASH(), r.attester, r.batchId, keccak256(r.reasonCid), r.nonce, r.deadline)
        );
        r.signature = _sign(_cooperativeKey, _typedDigest(structHash));
    }
}
