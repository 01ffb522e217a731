// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {ContainerFixture} from "./test/ContainerFixture.sol";

/// @notice Cases and pallets: packing by custody of every batch, one live root, shipping and
/// receiving as a batch's custody moves, unpacking, and each refusal changing nothing.
/// @dev From the fixture: the processor holds the setup batch (the cooperative keeps its say);
/// a retailer and a carrier are registered; `_otherBatch` is still with the cooperative.
contract ContainersTest is ContainerFixture {
    // ---------------------------------------------------------------- packing

    function test_pack_commitsTheRootAndGivesTheCaseToThePacker() public {
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        bytes32 digest = _packingDigest(r);
        ITraceRegistry.ContainerState memory expected = _state(_caseRoot, _processor, address(0), digest);
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.ContainerPacked(
            _caseKey,
            _processor,
            _caseRoot,
            2,
            r.batchIds,
            r.childContainers,
            r.occurredAt,
            r.payloadCid,
            address(0),
            bytes32(0),
            r.deadline,
            r.signature,
            _processor,
            address(0),
            _hash(expected)
        );
        _submitPacking(r);

        assertEq(_registry.containerState(_caseKey), _hash(expected));
        assertTrue(_registry.containsItem(_caseKey, expected, _batchId, "A1", _only(_leafB)));
        assertTrue(_registry.containsItem(_caseKey, expected, _batchId, "A2", _only(_leafA)));
        assertFalse(_registry.containsItem(_caseKey, expected, _batchId, "A3", _only(_leafA)), "not packed");
        assertFalse(_registry.containsItem(_caseKey, expected, _otherBatch, "A1", _only(_leafB)), "other batch");
        ITraceRegistry.ContainerState memory forged = _state(_caseRoot, _retailer, address(0), digest);
        assertFalse(_registry.containsItem(_caseKey, forged, _batchId, "A1", _only(_leafB)), "not the stored state");
    }

    function test_pack_andShipInOneRequest() public {
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        r.counterparty = _retailer;
        r.signature = _sign(_processorKey, _packingDigest(r));
        _submitPacking(r);
        ITraceRegistry.ContainerState memory shipped = _state(_caseRoot, _processor, _retailer, _packingDigest(r));
        assertEq(_registry.containerState(_caseKey), _hash(shipped));
        ITraceRegistry.ContainerState memory received = _record(
            _retailerKey,
            _retailer,
            ITraceRegistry.ContainerAction.Receiving,
            address(0),
            shipped
        );
        assertEq(received.custodian, _retailer);
    }

    function test_pack_refusesAnInvalidReceiver() public {
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        r.counterparty = _cooperative;
        r.signature = _sign(_processorKey, _packingDigest(r));
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(ITraceRegistry.RegistryReceiverInvalid.selector, _caseKey, _cooperative)
        );
        _submitPacking(r);
    }

    function test_pack_byTheBatchCooperative() public {
        // The cooperative keeps its say over the batch it handed over, as for events.
        bytes32[] memory both = new bytes32[](2);
        both[0] = _batchId;
        both[1] = _otherBatch;
        ITraceRegistry.ContainerState memory packed = _pack(_cooperativeKey, _cooperative, _caseKey, _caseRoot, both);
        assertEq(packed.custodian, _cooperative);
        assertEq(_registry.containerState(_caseKey), _hash(packed));
    }

    function test_pack_refusesALiveContainer() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerPackRequest memory again = _packing(
            _processorKey,
            _processor,
            _caseKey,
            keccak256("another root"),
            _only(_batchId)
        );
        again.current = packed;
        _expectUnchanged(_caseKey, abi.encodeWithSelector(ITraceRegistry.RegistryContainerLive.selector, _caseKey));
        _submitPacking(again);
    }

    function test_pack_refusesWithoutCustodyOfEveryBatch() public {
        bytes32[] memory both = new bytes32[](2);
        both[0] = _batchId;
        both[1] = _otherBatch;
        ITraceRegistry.ContainerPackRequest memory r = _packing(_processorKey, _processor, _caseKey, _caseRoot, both);
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _otherBatch,
                _processor,
                ITraceRegistry.BizStep.Packing
            )
        );
        _submitPacking(r);
    }

    function test_pack_refusesAnUnknownBatch() public {
        bytes32 unknown = keccak256("no such batch");
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(unknown)
        );
        _expectUnchanged(_caseKey, abi.encodeWithSelector(ITraceRegistry.RegistryBatchUnknown.selector, unknown));
        _submitPacking(r);
    }

    function test_pack_refusesAKindThatNeverPacks() public {
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _retailerKey,
            _retailer,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryStepNotAllowed.selector,
                _retailer,
                ITraceRegistry.OrgKind.Retailer,
                ITraceRegistry.BizStep.Packing
            )
        );
        _submitPacking(r);
    }

    function test_pack_refusesASuspendedPacker() public {
        vm.prank(_regulator);
        _registry.suspendOrganisation(_processor, _CID);
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(ITraceRegistry.RegistryOrganisationSuspended.selector, _processor)
        );
        _submitPacking(r);
    }

    function test_pack_refusesInvalidChildren() public {
        bytes memory invalid = abi.encodeWithSelector(
            ITraceRegistry.RegistryContainerChildrenInvalid.selector,
            _caseKey
        );
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            bytes32(0),
            _only(_batchId)
        );
        _expectUnchanged(_caseKey, invalid);
        _submitPacking(r);

        r = _packing(_processorKey, _processor, _caseKey, _caseRoot, _only(_batchId));
        r.childCount = 0;
        _expectUnchanged(_caseKey, invalid);
        _submitPacking(r);

        r = _packing(_processorKey, _processor, _caseKey, _caseRoot, new bytes32[](0));
        _expectUnchanged(_caseKey, invalid);
        _submitPacking(r);
    }

    function test_pack_refusesAZeroTimeAndAnEmptyPayload() public {
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        r.occurredAt = 0;
        _expectUnchanged(_caseKey, abi.encodeWithSelector(ITraceRegistry.RegistryOccurredAtZero.selector));
        _submitPacking(r);

        r = _packing(_processorKey, _processor, _caseKey, _caseRoot, _only(_batchId));
        r.payloadCid = "";
        _expectUnchanged(_caseKey, abi.encodeWithSelector(ITraceRegistry.RegistryPayloadCidEmpty.selector));
        _submitPacking(r);
    }

    function test_pack_refusesAStateThatIsNotTheStoredOne() public {
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        r.previous = keccak256("stale");
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryContainerStateMismatch.selector,
                _caseKey,
                bytes32(0),
                r.previous
            )
        );
        _submitPacking(r);

        // A container never packed has no state to claim.
        r = _packing(_processorKey, _processor, _caseKey, _caseRoot, _only(_batchId));
        r.current.childrenRoot = _caseRoot;
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryContainerStateMismatch.selector,
                _caseKey,
                bytes32(0),
                _caseRoot
            )
        );
        _submitPacking(r);

        // An unpacked one must be given as it is.
        ITraceRegistry.ContainerState memory unpacked = _unpackCase(_packCase());
        r = _packing(_processorKey, _processor, _caseKey, _caseRoot, _only(_batchId));
        r.current = _state(unpacked.childrenRoot, _processor, unpacked.pendingReceiver, unpacked.link);
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryContainerStateMismatch.selector,
                _caseKey,
                _hash(unpacked),
                _hash(r.current)
            )
        );
        _submitPacking(r);
    }

    function test_pack_refusesABadOrExpiredSignature() public {
        ITraceRegistry.ContainerPackRequest memory r = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        r.childCount = 3;
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(ITraceRegistry.RegistrySignatureInvalid.selector, _processor, _packingDigest(r))
        );
        _submitPacking(r);

        r = _packing(_processorKey, _processor, _caseKey, _caseRoot, _only(_batchId));
        vm.warp(r.deadline + 1);
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(ITraceRegistry.RegistrySignatureExpired.selector, r.deadline, r.deadline + 1)
        );
        _submitPacking(r);
    }

    function test_pack_isNotReplayedAfterUnpacking() public {
        ITraceRegistry.ContainerPackRequest memory first = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        _submitPacking(first);
        ITraceRegistry.ContainerState memory unpacked = _unpackCase(
            _state(_caseRoot, _processor, address(0), _packingDigest(first))
        );
        first.current = unpacked;
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(ITraceRegistry.RegistryContainerStateMismatch.selector, _caseKey, _hash(unpacked), 0)
        );
        _submitPacking(first);
        // Signed anew for the unpacked state, the case is packed again.
        ITraceRegistry.ContainerPackRequest memory again = _packing(
            _processorKey,
            _processor,
            _caseKey,
            _caseRoot,
            _only(_batchId)
        );
        again.current = unpacked;
        _submitPacking(again);
        assertEq(
            _registry.containerState(_caseKey),
            _hash(_state(_caseRoot, _processor, address(0), _packingDigest(again)))
        );
    }

    // ---------------------------------------------------------------- shipping and receiving

    function test_shipAndReceive_moveCustodyToTheNamedReceiver() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerEventRequest memory ship = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Shipping,
            _retailer,
            packed
        );
        ITraceRegistry.ContainerState memory shipped = _state(
            _caseRoot,
            _processor,
            _retailer,
            _containerEventDigest(ship)
        );
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.ContainerEventRecorded(
            _caseKey,
            _processor,
            ITraceRegistry.ContainerAction.Shipping,
            ship.occurredAt,
            ship.payloadCid,
            _retailer,
            _hash(packed),
            ship.deadline,
            ship.signature,
            _processor,
            _retailer,
            _hash(shipped)
        );
        _submitContainerEvent(ship);
        assertEq(_registry.containerState(_caseKey), _hash(shipped));

        ITraceRegistry.ContainerState memory received = _record(
            _retailerKey,
            _retailer,
            ITraceRegistry.ContainerAction.Receiving,
            address(0),
            shipped
        );
        assertEq(received.custodian, _retailer);
        assertEq(received.pendingReceiver, address(0));
        assertTrue(_registry.containsItem(_caseKey, received, _batchId, "A1", _only(_leafB)), "still packed");
    }

    function test_receive_endsTheShippersHold() public {
        ITraceRegistry.ContainerState memory shipped = _record(
            _processorKey,
            _processor,
            ITraceRegistry.ContainerAction.Shipping,
            _retailer,
            _packCase()
        );
        ITraceRegistry.ContainerState memory received = _record(
            _retailerKey,
            _retailer,
            ITraceRegistry.ContainerAction.Receiving,
            address(0),
            shipped
        );
        // The shipper no longer holds it; the retailer does and may unpack it.
        ITraceRegistry.ContainerEventRequest memory late = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Shipping,
            _carrier,
            received
        );
        _expectUnchanged(_caseKey, _withoutCustody(_processor, ITraceRegistry.ContainerAction.Shipping));
        _submitContainerEvent(late);
        _record(_retailerKey, _retailer, ITraceRegistry.ContainerAction.Unpacking, address(0), received);
    }

    function test_ship_refusesAnActorNotHoldingTheContainer() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _carrierKey,
            _carrier,
            _caseKey,
            ITraceRegistry.ContainerAction.Shipping,
            _retailer,
            packed
        );
        _expectUnchanged(_caseKey, _withoutCustody(_carrier, ITraceRegistry.ContainerAction.Shipping));
        _submitContainerEvent(r);
    }

    function test_ship_refusesAnInvalidReceiver() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        address[3] memory invalid = [_processor, makeAddr("nobody"), _cooperative];
        for (uint256 i = 0; i < invalid.length; ++i) {
            ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
                _processorKey,
                _processor,
                _caseKey,
                ITraceRegistry.ContainerAction.Shipping,
                invalid[i],
                packed
            );
            _expectUnchanged(
                _caseKey,
                abi.encodeWithSelector(ITraceRegistry.RegistryReceiverInvalid.selector, _caseKey, invalid[i])
            );
            _submitContainerEvent(r);
        }
    }

    function test_ship_againReplacesTheReceiver() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerState memory toRetailer = _record(
            _processorKey,
            _processor,
            ITraceRegistry.ContainerAction.Shipping,
            _retailer,
            packed
        );
        ITraceRegistry.ContainerState memory toCarrier = _record(
            _processorKey,
            _processor,
            ITraceRegistry.ContainerAction.Shipping,
            _carrier,
            toRetailer
        );
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _retailerKey,
            _retailer,
            _caseKey,
            ITraceRegistry.ContainerAction.Receiving,
            address(0),
            toCarrier
        );
        _expectUnchanged(_caseKey, _withoutCustody(_retailer, ITraceRegistry.ContainerAction.Receiving));
        _submitContainerEvent(r);
        _record(_carrierKey, _carrier, ITraceRegistry.ContainerAction.Receiving, address(0), toCarrier);
    }

    function test_receive_refusesAContainerNotShipped() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _retailerKey,
            _retailer,
            _caseKey,
            ITraceRegistry.ContainerAction.Receiving,
            address(0),
            packed
        );
        _expectUnchanged(_caseKey, _withoutCustody(_retailer, ITraceRegistry.ContainerAction.Receiving));
        _submitContainerEvent(r);
    }

    function test_receive_refusesAKindThatNeverReceives() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _cooperativeKey,
            _cooperative,
            _caseKey,
            ITraceRegistry.ContainerAction.Receiving,
            address(0),
            packed
        );
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryStepNotAllowed.selector,
                _cooperative,
                ITraceRegistry.OrgKind.Cooperative,
                ITraceRegistry.BizStep.Receiving
            )
        );
        _submitContainerEvent(r);
    }

    // ---------------------------------------------------------------- unpacking

    function test_unpack_clearsTheRoot() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerState memory unpacked = _unpackCase(packed);
        assertEq(unpacked.childrenRoot, bytes32(0));
        assertNotEq(_registry.containerState(_caseKey), bytes32(0), "never zero again");
        assertFalse(_registry.containsItem(_caseKey, packed, _batchId, "A1", _only(_leafB)), "old state");
        assertFalse(_registry.containsItem(_caseKey, unpacked, _batchId, "A1", _only(_leafB)), "nothing packed");

        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Shipping,
            _retailer,
            unpacked
        );
        _expectUnchanged(_caseKey, abi.encodeWithSelector(ITraceRegistry.RegistryContainerEmpty.selector, _caseKey));
        _submitContainerEvent(r);
    }

    function test_unpack_refusesInTransitAndByOthers() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _carrierKey,
            _carrier,
            _caseKey,
            ITraceRegistry.ContainerAction.Unpacking,
            address(0),
            packed
        );
        _expectUnchanged(_caseKey, _withoutCustody(_carrier, ITraceRegistry.ContainerAction.Unpacking));
        _submitContainerEvent(r);

        ITraceRegistry.ContainerState memory shipped = _record(
            _processorKey,
            _processor,
            ITraceRegistry.ContainerAction.Shipping,
            _retailer,
            packed
        );
        r = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Unpacking,
            address(0),
            shipped
        );
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(ITraceRegistry.RegistryContainerInTransit.selector, _caseKey)
        );
        _submitContainerEvent(r);
    }

    function test_events_refuseBadFields() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Unpacking,
            _retailer,
            packed
        );
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryContainerCounterpartyUnexpected.selector,
                ITraceRegistry.ContainerAction.Unpacking,
                _retailer
            )
        );
        _submitContainerEvent(r);

        r = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Unpacking,
            address(0),
            packed
        );
        r.occurredAt = 0;
        _expectUnchanged(_caseKey, abi.encodeWithSelector(ITraceRegistry.RegistryOccurredAtZero.selector));
        _submitContainerEvent(r);

        r = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Unpacking,
            address(0),
            packed
        );
        r.payloadCid = "";
        _expectUnchanged(_caseKey, abi.encodeWithSelector(ITraceRegistry.RegistryPayloadCidEmpty.selector));
        _submitContainerEvent(r);
    }

    function test_events_refuseAStaleStateOrABadSignature() public {
        ITraceRegistry.ContainerState memory packed = _packCase();
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Unpacking,
            address(0),
            packed
        );
        r.previous = bytes32(0);
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(ITraceRegistry.RegistryContainerStateMismatch.selector, _caseKey, _hash(packed), 0)
        );
        _submitContainerEvent(r);

        r = _containerEvent(
            _processorKey,
            _processor,
            _caseKey,
            ITraceRegistry.ContainerAction.Unpacking,
            address(0),
            packed
        );
        r.signature = _sign(_retailerKey, _containerEventDigest(r));
        _expectUnchanged(
            _caseKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistrySignatureInvalid.selector,
                _processor,
                _containerEventDigest(r)
            )
        );
        _submitContainerEvent(r);
    }

    // ---------------------------------------------------------------- pallets

    function test_pallet_packsCasesItsPackerHolds() public {
        ITraceRegistry.ContainerState memory caseState = _packCase();
        bytes32 palletRoot = _leafOf(_caseKey);
        ITraceRegistry.ContainerPackRequest memory r = _palletPacking(caseState);
        _submitPacking(r);
        ITraceRegistry.ContainerState memory pallet = _state(palletRoot, _processor, address(0), _packingDigest(r));
        assertTrue(_registry.containsContainer(_palletKey, pallet, _caseKey, new bytes32[](0)));
        assertFalse(_registry.containsContainer(_palletKey, pallet, keccak256("other case"), new bytes32[](0)));
    }

    function test_pallet_refusesCasesNotAsStored() public {
        ITraceRegistry.ContainerState memory caseState = _packCase();
        ITraceRegistry.ContainerPackRequest memory r = _palletPacking(caseState);
        r.childStates = new ITraceRegistry.ContainerState[](0);
        _expectUnchanged(
            _palletKey,
            abi.encodeWithSelector(ITraceRegistry.RegistryContainerChildStatesLength.selector, 1, 0)
        );
        _submitPacking(r);

        ITraceRegistry.ContainerState memory wrong = _state(_caseRoot, _carrier, address(0), caseState.link);
        r = _palletPacking(wrong);
        _expectUnchanged(
            _palletKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryContainerStateMismatch.selector,
                _caseKey,
                _hash(caseState),
                _hash(wrong)
            )
        );
        _submitPacking(r);
    }

    function test_pallet_refusesCasesInTransitNotHeldOrEmpty() public {
        ITraceRegistry.ContainerState memory caseState = _packCase();
        ITraceRegistry.ContainerState memory shipped = _record(
            _processorKey,
            _processor,
            ITraceRegistry.ContainerAction.Shipping,
            _carrier,
            caseState
        );
        ITraceRegistry.ContainerPackRequest memory r = _palletPacking(shipped);
        _expectUnchanged(
            _palletKey,
            abi.encodeWithSelector(ITraceRegistry.RegistryContainerInTransit.selector, _caseKey)
        );
        _submitPacking(r);

        ITraceRegistry.ContainerState memory received = _record(
            _carrierKey,
            _carrier,
            ITraceRegistry.ContainerAction.Receiving,
            address(0),
            shipped
        );
        r = _palletPacking(received);
        _expectUnchanged(
            _palletKey,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryContainerWithoutCustody.selector,
                _caseKey,
                _processor,
                ITraceRegistry.ContainerAction.Shipping
            )
        );
        _submitPacking(r);

        ITraceRegistry.ContainerState memory unpacked = _record(
            _carrierKey,
            _carrier,
            ITraceRegistry.ContainerAction.Unpacking,
            address(0),
            received
        );
        r = _palletPacking(unpacked);
        _expectUnchanged(_palletKey, abi.encodeWithSelector(ITraceRegistry.RegistryContainerEmpty.selector, _caseKey));
        _submitPacking(r);
    }

    // ---------------------------------------------------------------- submissions

    function test_submissions_refuseEmptyOnesAndOthersThanTheRelayer() public {
        vm.startPrank(_relayer);
        vm.expectRevert(abi.encodeWithSelector(ITraceRegistry.RegistryEmptySubmission.selector));
        _registry.packContainers(new ITraceRegistry.ContainerPackRequest[](0));
        vm.expectRevert(abi.encodeWithSelector(ITraceRegistry.RegistryEmptySubmission.selector));
        _registry.recordContainerEvents(new ITraceRegistry.ContainerEventRequest[](0));
        vm.stopPrank();

        ITraceRegistry.ContainerPackRequest[] memory packings = new ITraceRegistry.ContainerPackRequest[](1);
        packings[0] = _packing(_processorKey, _processor, _caseKey, _caseRoot, _only(_batchId));
        bytes memory unauthorised = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector,
            _processor,
            _relayerRole
        );
        vm.prank(_processor);
        vm.expectRevert(unauthorised);
        _registry.packContainers(packings);
        vm.prank(_processor);
        vm.expectRevert(unauthorised);
        _registry.recordContainerEvents(new ITraceRegistry.ContainerEventRequest[](1));
    }

    // ---------------------------------------------------------------- properties

    /// forge-config: default.fuzz.runs = 1000
    /// @dev No packing without custody of every batch listed: of three batches, the processor
    /// is handed those `held` picks; a packing of those `listed` picks is recorded exactly when
    /// every listed batch is held, and otherwise changes nothing.
    function testFuzz_noPackWithoutCustodyOfEveryBatch(uint8 held, uint8 listed) public {
        held %= 8;
        listed = (listed % 7) + 1;
        bytes32[] memory batches = new bytes32[](3);
        uint256 count = 0;
        for (uint256 i = 0; i < 3; ++i) {
            bytes32 batchId = _attest(string.concat("FUZZ-", vm.toString(i)), keccak256(abi.encode(i)), 40 + i);
            if (held & (1 << i) != 0) _handOver(batchId, 50 + i, _processorKey, _processor, 60 + i);
            if (listed & (1 << i) != 0) batches[count++] = batchId;
        }
        bytes32[] memory picked = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) picked[i] = batches[i];

        ITraceRegistry.ContainerPackRequest memory r = _packing(_processorKey, _processor, _caseKey, _caseRoot, picked);
        if (listed & ~held != 0) {
            vm.expectRevert();
            _submitPacking(r);
            assertEq(_registry.containerState(_caseKey), bytes32(0), "nothing changed");
        } else {
            _submitPacking(r);
            assertEq(
                _registry.containerState(_caseKey),
                _hash(_state(_caseRoot, _processor, address(0), _packingDigest(r)))
            );
        }
    }
}
