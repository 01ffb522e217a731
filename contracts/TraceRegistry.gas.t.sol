// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {RegistryFixture} from "./test/RegistryFixture.sol";

/// @notice The gas of each write the platform sends, recorded in `snapshots/TraceRegistry.json`
/// (and each test's own in `.gas-snapshot`). The test command checks both against the
/// committed files, so a change in gas fails until the snapshot is updated on purpose
/// (README, "Gas snapshot"). No fuzzing here: every number is the same on every run.
/// @dev Each snapshot is taken right after the registry call it names, from the fixture's
/// state: a cooperative and a processor registered, the cooperative's prefix bound, one
/// batch handed over to the processor (two events). Events are checked for custody: the
/// processor's by the custodian path, a fresh batch's first by the cooperative's own key.
contract TraceRegistryGasTest is RegistryFixture {
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
