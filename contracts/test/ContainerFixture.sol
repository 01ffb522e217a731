// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {RegistryFixture} from "./RegistryFixture.sol";

/// @title ContainerFixture
/// @notice Test-only: the registry fixture with a retailer and a carrier registered, a second
/// batch still with its cooperative, a case's two items (`A1`, `A2` of the setup batch), and
/// the signed container requests the tests submit, built and hashed independently of the
/// registry's own code.
abstract contract ContainerFixture is RegistryFixture {
    /// @dev GS1's example SSCCs (check digits included) as integers.
    uint64 internal constant _CASE_SSCC = 106141411234567897;
    uint64 internal constant _PALLET_SSCC = 306141411234567891;

    address internal _retailer;
    uint256 internal _retailerKey;
    address internal _carrier;
    uint256 internal _carrierKey;
    bytes32 internal _otherBatch;
    bytes32 internal _caseKey;
    bytes32 internal _palletKey;
    bytes32 internal _leafA;
    bytes32 internal _leafB;
    bytes32 internal _caseRoot;

    /// @dev A refusal the next submission must meet, and the state it must leave alone.
    bool private _watching;
    bytes32 private _watchedKey;
    bytes32 private _watchedState;

    function setUp() public virtual override {
        super.setUp();
        (_retailer, _retailerKey) = makeAddrAndKey("retailer");
        (_carrier, _carrierKey) = makeAddrAndKey("cold-chain carrier");
        vm.startPrank(_admin);
        _registry.registerOrganisation(_retailer, ITraceRegistry.OrgKind.Retailer, _REGION, _CID);
        _registry.registerOrganisation(_carrier, ITraceRegistry.OrgKind.Logistics, _REGION, _CID);
        vm.stopPrank();
        _otherBatch = _attest("OTHER-LOT", keccak256("other items"), 20);
        _caseKey = keccak256(abi.encode(_CASE_SSCC));
        _palletKey = keccak256(abi.encode(_PALLET_SSCC));
        _leafA = _itemLeaf(_batchId, "A1");
        _leafB = _itemLeaf(_batchId, "A2");
        _caseRoot = _leafA < _leafB ? keccak256(abi.encode(_leafA, _leafB)) : keccak256(abi.encode(_leafB, _leafA));
    }

    // ---------------------------------------------------------------- leaves and states

    function _itemLeaf(bytes32 batchId, string memory serial) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(batchId, serial))));
    }

    function _leafOf(bytes32 containerKey) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(containerKey))));
    }

    function _only(bytes32 value) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = value;
    }

    function _state(
        bytes32 root,
        address custodian,
        address pending,
        bytes32 link
    ) internal pure returns (ITraceRegistry.ContainerState memory) {
        return
            ITraceRegistry.ContainerState({
                childrenRoot: root,
                custodian: custodian,
                pendingReceiver: pending,
                link: link
            });
    }

    function _hash(ITraceRegistry.ContainerState memory state) internal pure returns (bytes32) {
        return keccak256(abi.encode(state.childrenRoot, state.custodian, state.pendingReceiver, state.link));
    }

    // ---------------------------------------------------------------- digests

    function _packingDigest(ITraceRegistry.ContainerPackRequest memory r) internal view returns (bytes32) {
        return
            _typedDigest(
                keccak256(
                    abi.encode(
                        _registry.CONTAINER_PACKING_TYPEHASH(),
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

    function _containerEventDigest(ITraceRegistry.ContainerEventRequest memory r) internal view returns (bytes32) {
        return
            _typedDigest(
                keccak256(
                    abi.encode(
                        _registry.CONTAINER_EVENT_TYPEHASH(),
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

    // ---------------------------------------------------------------- requests

    /// @dev A signed packing of items of `batchIds` for the container's stored state (never packed).
    function _packing(
        uint256 key,
        address actor,
        bytes32 containerKey,
        bytes32 root,
        bytes32[] memory batchIds
    ) internal view returns (ITraceRegistry.ContainerPackRequest memory r) {
        r.actor = actor;
        r.containerKey = containerKey;
        r.childrenRoot = root;
        r.childCount = 2;
        r.batchIds = batchIds;
        r.occurredAt = uint64(block.timestamp - 1 hours);
        r.payloadCid = _CID;
        r.previous = _registry.containerState(containerKey);
        r.deadline = uint64(block.timestamp + 1 hours);
        r.signature = _sign(key, _packingDigest(r));
    }

    /// @dev The processor's signed packing of the case into the pallet, the case given as `caseState`.
    function _palletPacking(
        ITraceRegistry.ContainerState memory caseState
    ) internal view returns (ITraceRegistry.ContainerPackRequest memory r) {
        r = _packing(_processorKey, _processor, _palletKey, _leafOf(_caseKey), new bytes32[](0));
        r.childCount = 1;
        r.childContainers = _only(_caseKey);
        r.childStates = new ITraceRegistry.ContainerState[](1);
        r.childStates[0] = caseState;
        r.signature = _sign(_processorKey, _packingDigest(r));
    }

    function _containerEvent(
        uint256 key,
        address actor,
        bytes32 containerKey,
        ITraceRegistry.ContainerAction action,
        address counterparty,
        ITraceRegistry.ContainerState memory current
    ) internal view returns (ITraceRegistry.ContainerEventRequest memory r) {
        r.actor = actor;
        r.containerKey = containerKey;
        r.action = action;
        r.occurredAt = uint64(block.timestamp - 1 hours);
        r.payloadCid = _CID;
        r.counterparty = counterparty;
        r.previous = _hash(current);
        r.deadline = uint64(block.timestamp + 1 hours);
        r.current = current;
        r.signature = _sign(key, _containerEventDigest(r));
    }

    // ---------------------------------------------------------------- submissions

    function _pack(
        uint256 key,
        address actor,
        bytes32 containerKey,
        bytes32 root,
        bytes32[] memory batchIds
    ) internal returns (ITraceRegistry.ContainerState memory) {
        ITraceRegistry.ContainerPackRequest memory r = _packing(key, actor, containerKey, root, batchIds);
        _submitPacking(r);
        return _state(root, actor, address(0), _packingDigest(r));
    }

    function _packCase() internal returns (ITraceRegistry.ContainerState memory) {
        return _pack(_processorKey, _processor, _caseKey, _caseRoot, _only(_batchId));
    }

    /// @dev Records `action` on the case and returns its state after it (no key is rotated here,
    /// so every origin is its signer).
    function _record(
        uint256 key,
        address actor,
        ITraceRegistry.ContainerAction action,
        address counterparty,
        ITraceRegistry.ContainerState memory current
    ) internal returns (ITraceRegistry.ContainerState memory next) {
        ITraceRegistry.ContainerEventRequest memory r = _containerEvent(
            key,
            actor,
            _caseKey,
            action,
            counterparty,
            current
        );
        _submitContainerEvent(r);
        bytes32 link = _containerEventDigest(r);
        if (action == ITraceRegistry.ContainerAction.Shipping) {
            next = _state(current.childrenRoot, current.custodian, counterparty, link);
        } else if (action == ITraceRegistry.ContainerAction.Receiving) {
            next = _state(current.childrenRoot, actor, address(0), link);
        } else {
            next = _state(bytes32(0), address(0), address(0), link);
        }
        assertEq(_registry.containerState(_caseKey), _hash(next), "state after the event");
    }

    function _unpackCase(
        ITraceRegistry.ContainerState memory current
    ) internal returns (ITraceRegistry.ContainerState memory) {
        return _record(_processorKey, _processor, ITraceRegistry.ContainerAction.Unpacking, address(0), current);
    }

    /// @dev The next submission must revert with `revertData` and leave `containerKey`'s state as it is.
    function _expectUnchanged(bytes32 containerKey, bytes memory revertData) internal {
        _watching = true;
        _watchedKey = containerKey;
        _watchedState = _registry.containerState(containerKey);
        vm.expectRevert(revertData);
    }

    function _withoutCustody(
        address actor,
        ITraceRegistry.ContainerAction action
    ) internal view returns (bytes memory) {
        return abi.encodeWithSelector(ITraceRegistry.RegistryContainerWithoutCustody.selector, _caseKey, actor, action);
    }

    function _submitPacking(ITraceRegistry.ContainerPackRequest memory r) internal {
        ITraceRegistry.ContainerPackRequest[] memory requests = new ITraceRegistry.ContainerPackRequest[](1);
        requests[0] = r;
        vm.prank(_relayer);
        _registry.packContainers(requests);
        _checkUnchanged();
    }

    function _submitContainerEvent(ITraceRegistry.ContainerEventRequest memory r) internal {
        ITraceRegistry.ContainerEventRequest[] memory requests = new ITraceRegistry.ContainerEventRequest[](1);
        requests[0] = r;
        vm.prank(_relayer);
        _registry.recordContainerEvents(requests);
        _checkUnchanged();
    }

    function _checkUnchanged() private {
        if (!_watching) return;
        _watching = false;
        assertEq(_registry.containerState(_watchedKey), _watchedState, "a refusal changed nothing");
    }
}
