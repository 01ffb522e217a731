// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {TypedSignatures} from "../signatures/TypedSignatures.sol";

/// @title Containers
/// @notice Cases and pallets (named by SSCC): what is packed in them, committed by a Merkle
/// root, and who holds them, moved by shipping and receiving as a batch's custody moves.
/// @dev One storage slot per container, the hash of its {ContainerState}: packing and shipping
/// a case then writes one fresh slot, not three (root, custodian, receiver), which is most of
/// its gas. Writers pass the state (rebuilt from the container's logs) and the registry checks
/// it against the hash. Each signed request names the state hash it applies to (`previous`)
/// and each state carries the digest that produced it, so states never repeat and a signature
/// is usable once without spending a nonce. The slot lives in the registry ({_containerStates}),
/// after its other variables, so no earlier slot moves.
abstract contract Containers is TypedSignatures, AccessControl {
    // ---------------------------------------------------------------- relayer

    /// @inheritdoc ITraceRegistry
    function packContainers(ContainerPackRequest[] calldata requests) external onlyRole(_relayerRole()) {
        uint256 count = requests.length;
        if (count == 0) revert RegistryEmptySubmission();
        for (uint256 i = 0; i < count; ++i) {
            _pack(requests[i]);
        }
    }

    /// @inheritdoc ITraceRegistry
    function recordContainerEvents(ContainerEventRequest[] calldata requests) external onlyRole(_relayerRole()) {
        uint256 count = requests.length;
        if (count == 0) revert RegistryEmptySubmission();
        for (uint256 i = 0; i < count; ++i) {
            _recordContainerEvent(requests[i]);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITraceRegistry
    function containerState(bytes32 containerKey) external view returns (bytes32) {
        return _containerStates()[containerKey];
    }

    /// @inheritdoc ITraceRegistry
    function containsItem(
        bytes32 containerKey,
        ContainerState calldata state,
        bytes32 batchId,
        string calldata serial,
        bytes32[] calldata proof
    ) external view returns (bool) {
        // StandardMerkleTree's leaf of type ["bytes32", "string"].
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(batchId, serial))));
        return _contains(containerKey, state, leaf, proof);
    }

    /// @inheritdoc ITraceRegistry
    function containsContainer(
        bytes32 containerKey,
        ContainerState calldata state,
        bytes32 childKey,
        bytes32[] calldata proof
    ) external view returns (bool) {
        // StandardMerkleTree's leaf of type ["bytes32"].
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(childKey))));
        return _contains(containerKey, state, leaf, proof);
    }

    // ---------------------------------------------------------------- internal

    function _pack(ContainerPackRequest calldata r) private {
        bytes32 key = r.containerKey;
        _requireStep(r.actor, BizStep.Packing);
        if (
            r.childrenRoot == bytes32(0) ||
            r.childCount == 0 ||
            (r.batchIds.length == 0 && r.childContainers.length == 0)
        ) {
            revert RegistryContainerChildrenInvalid(key);
        }
        if (r.occurredAt == 0) revert RegistryOccurredAtZero();
        if (r.payloadCid.length == 0) revert RegistryPayloadCidEmpty();
        mapping(bytes32 => bytes32) storage states = _containerStates();
        bytes32 stored = _requireState(states, key, r.previous, r.current);
        if (r.current.childrenRoot != bytes32(0)) revert RegistryContainerLive(key);

        address origin = _originOf(r.actor);
        uint256 batches = r.batchIds.length;
        for (uint256 i = 0; i < batches; ++i) {
            _requireBatchCustody(r.batchIds[i], r.actor, origin);
        }
        _requireChildContainers(r, states, origin);
        // A despatch: the packer ships what it packed in the same signed request.
        address pending = address(0);
        if (r.counterparty != address(0)) {
            _requireStep(r.actor, BizStep.Shipping);
            pending = _requireReceiver(key, r.actor, r.counterparty);
        }

        bytes32 digest = _containerPackingDigest(r);
        _checkLinkedSignature(r.actor, digest, r.deadline, r.signature);
        bytes32 state = _stateHash(r.childrenRoot, origin, pending, digest);
        states[key] = state;
        emit ContainerPacked(
            key,
            r.actor,
            r.childrenRoot,
            r.childCount,
            r.batchIds,
            r.childContainers,
            r.occurredAt,
            r.payloadCid,
            r.counterparty,
            stored,
            r.deadline,
            r.signature,
            origin,
            pending,
            state
        );
    }

    /// @dev Refuses a child container (a case packed into a pallet) that is not live, not held
    /// by the packer's organisation, or on its way elsewhere.
    function _requireChildContainers(
        ContainerPackRequest calldata r,
        mapping(bytes32 => bytes32) storage states,
        address origin
    ) private view {
        uint256 children = r.childContainers.length;
        if (r.childStates.length != children) revert RegistryContainerChildStatesLength(children, r.childStates.length);
        for (uint256 i = 0; i < children; ++i) {
            bytes32 child = r.childContainers[i];
            ContainerState calldata childState = r.childStates[i];
            bytes32 childStored = states[child];
            bytes32 given = keccak256(abi.encode(childState));
            if (childStored != given) revert RegistryContainerStateMismatch(child, childStored, given);
            if (childState.childrenRoot == bytes32(0)) revert RegistryContainerEmpty(child);
            if (childState.custodian != origin) {
                revert RegistryContainerWithoutCustody(child, r.actor, ContainerAction.Shipping);
            }
            if (childState.pendingReceiver != address(0)) revert RegistryContainerInTransit(child);
        }
    }

    /// @dev Unpacking and shipping by the custodian, receiving by the receiver a shipping named;
    /// one path and one log for the three, since they differ only in who may and what changes.
    function _recordContainerEvent(ContainerEventRequest calldata r) private {
        bytes32 key = r.containerKey;
        ContainerAction action = r.action;
        if (action == ContainerAction.Unpacking) _requireActive(r.actor);
        else _requireStep(r.actor, action == ContainerAction.Shipping ? BizStep.Shipping : BizStep.Receiving);
        if (r.occurredAt == 0) revert RegistryOccurredAtZero();
        if (r.payloadCid.length == 0) revert RegistryPayloadCidEmpty();
        if (action != ContainerAction.Shipping && r.counterparty != address(0)) {
            revert RegistryContainerCounterpartyUnexpected(action, r.counterparty);
        }
        mapping(bytes32 => bytes32) storage states = _containerStates();
        _requireState(states, key, r.previous, r.current);
        bytes32 root = r.current.childrenRoot;
        if (root == bytes32(0)) revert RegistryContainerEmpty(key);
        (address custodian, address pending) = _nextCustody(r, _originOf(r.actor));
        if (r.action == ContainerAction.Unpacking) root = bytes32(0);
        bytes32 digest = _containerEventDigest(r);
        _checkLinkedSignature(r.actor, digest, r.deadline, r.signature);
        // Never zero again, even unpacked: the link keeps a packing signed for an earlier empty
        // state unusable.
        bytes32 state = _stateHash(root, custodian, pending, digest);
        states[key] = state;
        emit ContainerEventRecorded(
            key,
            r.actor,
            action,
            r.occurredAt,
            r.payloadCid,
            r.counterparty,
            r.previous,
            r.deadline,
            r.signature,
            custodian,
            pending,
            state
        );
    }

    /// @dev The custodian and pending receiver after `r`, refusing an actor that may not do it.
    function _nextCustody(
        ContainerEventRequest calldata r,
        address origin
    ) private view returns (address custodian, address pending) {
        bytes32 key = r.containerKey;
        ContainerAction action = r.action;
        custodian = r.current.custodian;
        pending = r.current.pendingReceiver;
        if (action == ContainerAction.Receiving) {
            // The origin of a registered actor is never zero, so an unshipped container fails here.
            if (pending != origin) revert RegistryContainerWithoutCustody(key, r.actor, action);
            return (origin, address(0));
        }
        if (custodian != origin) revert RegistryContainerWithoutCustody(key, r.actor, action);
        if (action == ContainerAction.Shipping) {
            // A new shipping replaces any receiver named before: the container went elsewhere.
            return (custodian, _requireReceiver(key, r.actor, r.counterparty));
        }
        if (pending != address(0)) revert RegistryContainerInTransit(key);
        return (address(0), address(0));
    }

    /// @dev Refuses a request whose named state, or given state, is not the stored one.
    function _requireState(
        mapping(bytes32 => bytes32) storage states,
        bytes32 key,
        bytes32 previous,
        ContainerState calldata current
    ) private view returns (bytes32 stored) {
        stored = states[key];
        if (previous != stored) revert RegistryContainerStateMismatch(key, stored, previous);
        // A container never packed has no state to give: its state is read as all zero.
        if (stored == bytes32(0)) {
            if (current.childrenRoot != bytes32(0))
                revert RegistryContainerStateMismatch(key, stored, current.childrenRoot);
            return stored;
        }
        bytes32 given = keccak256(abi.encode(current));
        if (given != stored) revert RegistryContainerStateMismatch(key, stored, given);
    }

    function _contains(
        bytes32 containerKey,
        ContainerState calldata state,
        bytes32 leaf,
        bytes32[] calldata proof
    ) private view returns (bool) {
        return
            state.childrenRoot != bytes32(0) &&
            _containerStates()[containerKey] == keccak256(abi.encode(state)) &&
            MerkleProof.verifyCalldata(proof, state.childrenRoot, leaf);
    }

    function _stateHash(
        bytes32 childrenRoot,
        address custodian,
        address pendingReceiver,
        bytes32 link
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(childrenRoot, custodian, pendingReceiver, link));
    }

    /// @dev Refuses an actor that is not active, or whose organisation kind never records `step`.
    function _requireStep(address actor, BizStep step) private view {
        OrgKind kind = _requireActive(actor).kind;
        if (!_kindRecords(kind, step)) revert RegistryStepNotAllowed(actor, kind, step);
    }

    // ---------------------------------------------------------------- provided by the registry

    /// @dev The role allowed to submit signed work (the registry's RELAYER_ROLE).
    function _relayerRole() internal pure virtual returns (bytes32);

    /// @dev Where each container's state hash is kept.
    function _containerStates() internal view virtual returns (mapping(bytes32 => bytes32) storage);

    /// @dev Refuses an actor (of origin `origin`) that could not record an event of the batch.
    function _requireBatchCustody(bytes32 batchId, address actor, address origin) internal view virtual;

    /// @dev The receiver's origin, refusing one a shipping of `actor` may not name.
    function _requireReceiver(
        bytes32 subject,
        address actor,
        address counterparty
    ) internal view virtual returns (address);

    /// @dev Whether organisations of `kind` record `step`.
    function _kindRecords(OrgKind kind, BizStep step) internal pure virtual returns (bool);

    /// @dev The record under `signer`; refuses an unknown or suspended signer.
    function _requireActive(address signer) internal view virtual returns (Organisation storage);

    /// @dev The origin of a signer that is, or was, an organisation's key.
    function _originOf(address signer) internal view virtual returns (address);
}
