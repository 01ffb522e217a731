// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {TraceRegistry} from "../TraceRegistry.sol";

/// @notice Drives the registry with random call sequences from accounts that hold no role,
/// and from a compromised relayer submitting what nobody signed. Every call that succeeds
/// is counted as a breach.
/// @dev A handler for invariant tests, not a test itself: the runner calls its public
/// functions in random order with fuzzed arguments.
contract OutsiderHandler is Test {
    TraceRegistry private immutable _REGISTRY;
    address private immutable _RELAYER;
    address private immutable _COOPERATIVE;
    bytes32 private immutable _BATCH_ID;

    uint256 public breaches;
    uint256 public calls;

    constructor(TraceRegistry registry, address relayer, address cooperative, bytes32 batchId) {
        _REGISTRY = registry;
        _RELAYER = relayer;
        _COOPERATIVE = cooperative;
        _BATCH_ID = batchId;
    }

    /// @dev Any address but the three that hold roles (and the precompiles).
    function _outsider(address candidate) private view returns (address) {
        if (candidate == _RELAYER || _REGISTRY.hasRole(_REGISTRY.DEFAULT_ADMIN_ROLE(), candidate)) {
            return address(uint160(candidate) ^ 0xdead);
        }
        if (_REGISTRY.hasRole(_REGISTRY.REGULATOR_ROLE(), candidate) || uint160(candidate) < 0x100) {
            return address(uint160(candidate) ^ 0xbeef);
        }
        return candidate;
    }

    function _count(bool succeeded) private {
        calls += 1;
        if (succeeded) breaches += 1;
    }

    function registerOrganisation(address caller, address signer, uint8 kind, uint32 region) external {
        vm.prank(_outsider(caller));
        try _REGISTRY.registerOrganisation(signer, ITraceRegistry.OrgKind(bound(kind, 1, 5)), region, hex"01") {
            _count(true);
        } catch {
            _count(false);
        }
    }

    function suspendOrganisation(address caller) external {
        vm.prank(_outsider(caller));
        try _REGISTRY.suspendOrganisation(_COOPERATIVE, hex"01") {
            _count(true);
        } catch {
            _count(false);
        }
    }

    function recallAsRegulator(address caller) external {
        vm.prank(_outsider(caller));
        try _REGISTRY.recallBatchAsRegulator(_BATCH_ID, hex"01") {
            _count(true);
        } catch {
            _count(false);
        }
    }

    function grantRole(address caller, address account, uint8 role) external {
        bytes32[3] memory roles = [
            _REGISTRY.DEFAULT_ADMIN_ROLE(),
            _REGISTRY.REGULATOR_ROLE(),
            _REGISTRY.RELAYER_ROLE()
        ];
        vm.prank(_outsider(caller));
        try _REGISTRY.grantRole(roles[bound(role, 0, 2)], account) {
            _count(true);
        } catch {
            _count(false);
        }
    }

    /// @dev The relayer's key is stolen: it submits an attestation no cooperative signed.
    function forgeAttestation(
        bool asRelayer,
        address caller,
        string calldata lot,
        bytes32 root,
        bytes32 r,
        bytes32 s
    ) external {
        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = ITraceRegistry.BatchAttestationRequest({
            attester: _COOPERATIVE,
            gtin: 6901234567892,
            lot: lot,
            itemsRoot: root,
            itemCount: 1,
            quantityMilli: 1,
            unit: "KGM",
            harvestedAt: uint64(block.timestamp),
            metadataCid: hex"01",
            nonce: uint256(root),
            deadline: uint64(block.timestamp + 1 hours),
            signature: abi.encodePacked(r, s, uint8(27))
        });
        vm.prank(asRelayer ? _RELAYER : _outsider(caller));
        try _REGISTRY.attestBatches(requests) {
            _count(true);
        } catch {
            _count(false);
        }
    }

    /// @dev The stolen relayer key appends an event nobody signed, or recalls a batch for its cooperative.
    function forgeEventOrRecall(bool recall, uint8 step, bytes32 r, bytes32 s, uint256 nonce) external {
        vm.startPrank(_RELAYER);
        if (recall) {
            try
                _REGISTRY.recallBatch(
                    ITraceRegistry.RecallRequest({
                        attester: _COOPERATIVE,
                        batchId: _BATCH_ID,
                        reasonCid: hex"01",
                        nonce: nonce,
                        deadline: uint64(block.timestamp + 1 hours),
                        signature: abi.encodePacked(r, s, uint8(28))
                    })
                )
            {
                _count(true);
            } catch {
                _count(false);
            }
        } else {
            ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
            requests[0] = ITraceRegistry.EventRequest({
                actor: _COOPERATIVE,
                batchId: _BATCH_ID,
                bizStep: ITraceRegistry.BizStep(bound(step, 0, 11)),
                occurredAt: uint64(block.timestamp),
                payloadCid: hex"01",
                counterparty: address(0),
                nonce: nonce,
                deadline: uint64(block.timestamp + 1 hours),
                signature: abi.encodePacked(r, s, uint8(27))
            });
            try _REGISTRY.recordEvents(requests) {
                _count(true);
            } catch {
                _count(false);
            }
        }
        vm.stopPrank();
    }
}
