// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {TraceRegistry} from "../TraceRegistry.sol";
import {BatchAttestationHash} from "./BatchAttestationHash.sol";

/// @notice Drives the registry with work that is correctly signed and submitted by the real
/// relayer, but by organisations with no say: a rival cooperative, a carrier never handed the
/// batch, and keys no organisation holds. They squat the victim's GTIN, append to its batch,
/// grant themselves its GTIN and ask for inspections of it. Every call that succeeds is a breach.
/// @dev A handler for invariant tests, not a test itself. Signatures are valid, so only the
/// authority rules (entitlement, custody, the cooperative's own say) can refuse them.
/// It talks to the cheatcodes directly rather than inheriting forge-std's Test: one Test less
/// keeps the coverage build of all the tests within the WebAssembly compiler's memory.
contract UnentitledHandler {
    Vm private constant _VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev The organisations without a say, as keys the handler signs with.
    struct Outsiders {
        uint256 rivalKey;
        uint256 carrierKey;
        address inspector;
    }

    TraceRegistry private immutable _REGISTRY;
    address private immutable _RELAYER;
    uint64 private immutable _GTIN;
    bytes32 private immutable _BATCH_ID;
    uint256 private immutable _RIVAL_KEY;
    uint256 private immutable _CARRIER_KEY;
    address private immutable _INSPECTOR;

    uint256 public breaches;
    uint256 public calls;
    /// @notice The revert data of the last refused call, so a test can show what refused it.
    bytes public lastError;

    constructor(TraceRegistry registry, address relayer, uint64 gtin, bytes32 batchId, Outsiders memory outsiders) {
        _REGISTRY = registry;
        _RELAYER = relayer;
        _GTIN = gtin;
        _BATCH_ID = batchId;
        _RIVAL_KEY = outsiders.rivalKey;
        _CARRIER_KEY = outsiders.carrierKey;
        _INSPECTOR = outsiders.inspector;
    }

    /// @dev The rival cooperative, the carrier, or a key no organisation holds.
    function _signerKey(uint8 who, uint256 seed) private view returns (uint256) {
        uint256 pick = who % 3;
        if (pick == 0) return _RIVAL_KEY;
        if (pick == 1) return _CARRIER_KEY;
        return _bound(seed, 1, 2 ** 160);
    }

    /// @dev `x` folded into [min, max], as forge-std's bound does for most inputs.
    function _bound(uint256 x, uint256 min, uint256 max) private pure returns (uint256) {
        return min + (x % (max - min + 1));
    }

    function _count(bool succeeded) private {
        calls += 1;
        if (succeeded) breaches += 1;
    }

    function _digest(bytes32 structHash) private view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(_REGISTRY.domainSeparator(), structHash);
    }

    function _sign(uint256 key, bytes32 structHash) private view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = _VM.sign(key, _digest(structHash));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Attests a batch of the victim's GTIN, signed by an organisation not entitled to it.
    function squatGtin(uint8 who, uint256 seed) external {
        uint256 key = _signerKey(who, seed);
        // A valid lot, so only entitlement stands in the way.
        string memory lot = string.concat("SQ-", _VM.toString(seed % 1e9));
        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = ITraceRegistry.BatchAttestationRequest({
            attester: _VM.addr(key),
            gtin: _GTIN,
            lot: lot,
            itemsRoot: keccak256(bytes(lot)),
            itemCount: 1,
            quantityMilli: 1,
            unit: "KGM",
            harvestedAt: uint64(block.timestamp),
            metadataCid: hex"01",
            nonce: seed,
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        requests[0].signature = _sign(
            key,
            BatchAttestationHash.hashOf(_REGISTRY.BATCH_ATTESTATION_TYPEHASH(), requests[0])
        );
        _VM.prank(_RELAYER);
        try _REGISTRY.attestBatches(requests) {
            _count(true);
        } catch (bytes memory error) {
            lastError = error;
            _count(false);
        }
    }

    /// @dev Appends any step to the victim's batch, signed by one without custody; a shipping
    /// names the carrier, the rival or a random key as receiver, any other step none, so only
    /// custody stands in the way.
    function appendToStrangersBatch(uint8 who, uint256 seed, uint8 step, uint8 receiver) external {
        uint256 key = _signerKey(who, seed);
        ITraceRegistry.BizStep bizStep = ITraceRegistry.BizStep(_bound(step, 0, 11));
        address counterparty = address(0);
        if (bizStep == ITraceRegistry.BizStep.Shipping) {
            uint256 pick = receiver % 3;
            if (pick == 0) counterparty = _VM.addr(_CARRIER_KEY);
            else if (pick == 1) counterparty = _VM.addr(_RIVAL_KEY);
            else counterparty = _VM.addr(_bound(seed ^ receiver, 1, 2 ** 160));
        }
        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
        requests[0] = ITraceRegistry.EventRequest({
            actor: _VM.addr(key),
            batchId: _BATCH_ID,
            bizStep: bizStep,
            occurredAt: uint64(block.timestamp),
            payloadCid: hex"01",
            counterparty: counterparty,
            nonce: seed,
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        ITraceRegistry.EventRequest memory r = requests[0];
        r.signature = _sign(
            key,
            keccak256(
                abi.encode(
                    _REGISTRY.TRACE_EVENT_TYPEHASH(),
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
        _VM.prank(_RELAYER);
        try _REGISTRY.recordEvents(requests) {
            _count(true);
        } catch (bytes memory error) {
            lastError = error;
            _count(false);
        }
    }

    /// @dev Grants the victim's GTIN to anyone, signed by an organisation that does not own it.
    function grantVictimsGtin(uint8 who, uint256 seed, address grantee, bool granted) external {
        uint256 key = _signerKey(who, seed);
        ITraceRegistry.GtinGrantRequest[] memory requests = new ITraceRegistry.GtinGrantRequest[](1);
        requests[0] = ITraceRegistry.GtinGrantRequest({
            owner: _VM.addr(key),
            gtin: _GTIN,
            grantee: grantee == address(0) ? _VM.addr(_RIVAL_KEY) : grantee,
            granted: granted,
            nonce: seed,
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        ITraceRegistry.GtinGrantRequest memory r = requests[0];
        r.signature = _sign(
            key,
            keccak256(
                abi.encode(_REGISTRY.GTIN_GRANT_TYPEHASH(), r.owner, r.gtin, r.grantee, r.granted, r.nonce, r.deadline)
            )
        );
        _VM.prank(_RELAYER);
        try _REGISTRY.changeGtinGrants(requests) {
            _count(true);
        } catch (bytes memory error) {
            lastError = error;
            _count(false);
        }
    }

    /// @dev Asks the inspector to inspect the victim's batch, signed by one that is not its cooperative.
    function requestInspectionOfStrangersBatch(uint8 who, uint256 seed) external {
        uint256 key = _signerKey(who, seed);
        ITraceRegistry.InspectionRequest[] memory requests = new ITraceRegistry.InspectionRequest[](1);
        requests[0] = ITraceRegistry.InspectionRequest({
            requester: _VM.addr(key),
            batchId: _BATCH_ID,
            inspector: _INSPECTOR,
            nonce: seed,
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        ITraceRegistry.InspectionRequest memory r = requests[0];
        r.signature = _sign(
            key,
            keccak256(
                abi.encode(
                    _REGISTRY.INSPECTION_REQUEST_TYPEHASH(),
                    r.requester,
                    r.batchId,
                    r.inspector,
                    r.nonce,
                    r.deadline
                )
            )
        );
        _VM.prank(_RELAYER);
        try _REGISTRY.requestInspections(requests) {
            _count(true);
        } catch (bytes memory error) {
            lastError = error;
            _count(false);
        }
    }
}
