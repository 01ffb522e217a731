// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {ContainerFixture} from "./test/ContainerFixture.sol";

/// @notice The gas of each write the platform sends, recorded in `snapshots/TraceRegistry.json`
/// (and each test's own in `.gas-snapshot`). The test command checks both against the
/// committed files, so a change in gas fails until the snapshot is updated on purpose
/// (README, "Gas snapshot"). No fuzzing here: every number is the same on every run.
/// @dev Each snapshot is taken right after the registry call it names, from the fixture's
/// state: a cooperative and a processor registered, the cooperative's prefix bound, one
/// batch handed over to the processor (two events). Events are checked for custody: the
/// processor's by the custodian path, a fresh batch's first by the cooperative's own key.
/// Containers: the processor packs 24-item cases of the batch it holds, ten to a transaction as
/// the writer sends events, and ships them to a retailer (README, "Gas snapshot").
contract TraceRegistryGasTest is ContainerFixture {
    string private constant _GROUP = "TraceRegistry";

    function test_registerOrganisation() public {
        vm.prank(_admin);
        _registry.registerOrganisation(makeAddr("carrier"), ITraceRegistry.OrgKind.Logistics, _REGION, _CID);
        vm.snapshotGasLastCall(_GROUP, "registerOrganisation");
    }

    function test_rotateSigner() public {
        vm.prank(_admin);
        _registry.rotateSigner(_processor, makeAddr("processor, new key"));
        vm.snapshotGasLastCall(_GROUP, "rotateSigner");
    }

    function test_suspendAndReinstateOrganisation() public {
        vm.prank(_regulator);
        _registry.suspendOrganisation(_processor, _CID);
        vm.snapshotGasLastCall(_GROUP, "suspendOrganisation");
        vm.prank(_regulator);
        _registry.reinstateOrganisation(_processor, _CID);
        vm.snapshotGasLastCall(_GROUP, "reinstateOrganisation");
    }

    function test_attestBatches_one() public {
        _submitAttestations(1);
        vm.snapshotGasLastCall(_GROUP, "attestBatches, 1 batch");
    }

    function test_attestBatches_ten() public {
        _submitAttestations(10);
        vm.snapshotGasLastCall(_GROUP, "attestBatches, 10 batches");
    }

    function test_recordEvents_firstOfABatch() public {
        bytes32 batchId = _attest("FRESH-LOT", keccak256("fresh items"), 1);
        _submitEvents(_cooperativeKey, _cooperative, batchId, 1);
        vm.snapshotGasLastCall(_GROUP, "recordEvents, a batch's first event");
    }

    function test_recordEvents_later() public {
        _submitEvents(_processorKey, _processor, _batchId, 1);
        vm.snapshotGasLastCall(_GROUP, "recordEvents, a batch's later event");
    }

    function test_recordEvents_ten() public {
        _submitEvents(_processorKey, _processor, _batchId, 10);
        vm.snapshotGasLastCall(_GROUP, "recordEvents, 10 events of one batch");
    }

    function test_recallBatch() public {
        ITraceRegistry.RecallRequest memory request = _recallRequest(_batchId, _CID, 1);
        vm.prank(_relayer);
        _registry.recallBatch(request);
        vm.snapshotGasLastCall(_GROUP, "recallBatch");
    }

    function test_recallBatchAsRegulator() public {
        vm.prank(_regulator);
        _registry.recallBatchAsRegulator(_batchId, _CID);
        vm.snapshotGasLastCall(_GROUP, "recallBatchAsRegulator");
    }

    function test_packContainers_one() public {
        _packCases(1, address(0));
        vm.snapshotGasLastCall(_GROUP, "packContainers, 1 case of 24 items");
    }

    function test_packContainers_ten() public {
        _packCases(10, address(0));
        vm.snapshotGasLastCall(_GROUP, "packContainers, 10 cases of 24 items");
    }

    function test_packContainers_tenShipped() public {
        _packCases(10, _retailer);
        vm.snapshotGasLastCall(_GROUP, "packContainers, 10 cases of 24 items shipped in the same request");
    }

    function test_recordContainerEvents_shipOne() public {
        _shipCases(_packCases(1, address(0)));
        vm.snapshotGasLastCall(_GROUP, "recordContainerEvents, shipping 1 case");
    }

    function test_recordContainerEvents_shipTen() public {
        _shipCases(_packCases(10, address(0)));
        vm.snapshotGasLastCall(_GROUP, "recordContainerEvents, shipping 10 cases");
    }

    /// @dev The processor packs `count` cases of 24 items of the batch it holds in one call,
    /// shipping each to `receiver` in the same request unless it is zero.
    function _packCases(
        uint256 count,
        address receiver
    ) private returns (ITraceRegistry.ContainerState[] memory states) {
        ITraceRegistry.ContainerPackRequest[] memory requests = new ITraceRegistry.ContainerPackRequest[](count);
        states = new ITraceRegistry.ContainerState[](count);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 root = keccak256(abi.encode("case", i));
            requests[i] = _packing(_processorKey, _processor, _caseKeyOf(i), root, _only(_batchId));
            requests[i].childCount = 24;
            requests[i].counterparty = receiver;
            requests[i].signature = _sign(_processorKey, _packingDigest(requests[i]));
            states[i] = _state(root, _processor, receiver, _packingDigest(requests[i]));
        }
        vm.prank(_relayer);
        _registry.packContainers(requests);
    }

    /// @dev The processor ships the packed cases to the retailer in one call.
    function _shipCases(ITraceRegistry.ContainerState[] memory states) private {
        ITraceRegistry.ContainerEventRequest[] memory requests = new ITraceRegistry.ContainerEventRequest[](
            states.length
        );
        for (uint256 i = 0; i < states.length; ++i) {
            requests[i] = _containerEvent(
                _processorKey,
                _processor,
                _caseKeyOf(i),
                ITraceRegistry.ContainerAction.Shipping,
                _retailer,
                states[i]
            );
        }
        vm.prank(_relayer);
        _registry.recordContainerEvents(requests);
    }

    function _caseKeyOf(uint256 i) private pure returns (bytes32) {
        return keccak256(abi.encode(uint64(106141410000000000 + i)));
    }

    /// @dev Attests `count` batches of the cooperative in one call, lots GAS-0, GAS-1, ….
    function _submitAttestations(uint256 count) private {
        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](count);
        for (uint256 i = 0; i < count; ++i) {
            string memory lot = string.concat("GAS-", vm.toString(i));
            requests[i] = _attestationRequest(6901234567892, lot, keccak256(bytes(lot)), 100 + i);
        }
        vm.prank(_relayer);
        _registry.attestBatches(requests);
    }

    /// @dev Records `count` events of `actor` on `batchId` in one call.
    function _submitEvents(uint256 key, address actor, bytes32 batchId, uint256 count) private {
        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](count);
        for (uint256 i = 0; i < count; ++i) {
            requests[i] = _eventRequest(key, actor, batchId, 100 + i);
        }
        vm.prank(_relayer);
        _registry.recordEvents(requests);
    }
}
