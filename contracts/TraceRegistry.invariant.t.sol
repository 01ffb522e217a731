// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {TraceRegistry} from "./TraceRegistry.sol";
import {BatchAttestationHash} from "./test/BatchAttestationHash.sol";
import {OutsiderHandler} from "./test/OutsiderHandler.sol";

/// @notice Invariants under random call sequences: no account without a role, and no relayer
/// without a signature, changes anything; roles, organisations and the batch stay as set up.
contract TraceRegistryInvariantTest is Test {
    TraceRegistry private _registry;
    OutsiderHandler private _handler;
    address private _admin;
    address private _regulator;
    address private _relayer;
    address private _cooperative;
    bytes32 private _batchId;
    bytes32 private _headAtStart;
    bytes32 private _rootAtStart;

    function setUp() public {
        _admin = makeAddr("admin");
        _regulator = makeAddr("regulator");
        _relayer = makeAddr("relayer");
        uint256 cooperativeKey;
        (_cooperative, cooperativeKey) = makeAddrAndKey("cooperative");
        _registry = new TraceRegistry(_admin);
        vm.startPrank(_admin);
        _registry.grantRole(_registry.REGULATOR_ROLE(), _regulator);
        _registry.grantRole(_registry.RELAYER_ROLE(), _relayer);
        _registry.registerOrganisation(_cooperative, ITraceRegistry.OrgKind.Cooperative, 330106, hex"01");
        _registry.bindCompanyPrefix(6901234, 7, _cooperative);
        vm.stopPrank();

        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = ITraceRegistry.BatchAttestationRequest({
            attester: _cooperative,
            gtin: 6901234567892,
            lot: "INVARIANT",
            itemsRoot: keccak256("items"),
            itemCount: 2,
            quantityMilli: 1_000,
            unit: "KGM",
            harvestedAt: uint64(block.timestamp),
            metadataCid: hex"01",
            nonce: 1,
            deadline: uint64(block.timestamp + 1 days),
            signature: ""
        });
        requests[0].signature = _sign(cooperativeKey, requests[0]);
        vm.prank(_relayer);
        _batchId = _registry.attestBatches(requests)[0];
        ITraceRegistry.BatchRecord memory record = _registry.batch(_batchId);
        _headAtStart = record.eventHead;
        _rootAtStart = record.itemsRoot;

        _handler = new OutsiderHandler(_registry, _relayer, _cooperative, _batchId);
        targetContract(address(_handler));
    }

    function _sign(uint256 key, ITraceRegistry.BatchAttestationRequest memory r) private view returns (bytes memory) {
        bytes32 structHash = BatchAttestationHash.hashOf(_registry.BATCH_ATTESTATION_TYPEHASH(), r);
        bytes32 digest = MessageHashUtils.toTypedDataHash(_registry.domainSeparator(), structHash);
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(key, digest);
        return abi.encodePacked(rr, ss, v);
    }

    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 32
    function invariant_noCallWithoutRoleOrSignatureSucceeds() public view {
        assertEq(_handler.breaches(), 0, "a call without the role or a signature succeeded");
    }

    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 32
    function invariant_rolesOrganisationsAndBatchAreUnchanged() public view {
        assertTrue(_registry.hasRole(_registry.DEFAULT_ADMIN_ROLE(), _admin));
        assertTrue(_registry.hasRole(_registry.REGULATOR_ROLE(), _regulator));
        assertTrue(_registry.hasRole(_registry.RELAYER_ROLE(), _relayer));
        assertEq(uint8(_registry.organisation(_cooperative).status), uint8(ITraceRegistry.OrgStatus.Active));
        ITraceRegistry.BatchRecord memory record = _registry.batch(_batchId);
        assertEq(record.eventHead, _headAtStart);
        assertEq(record.itemsRoot, _rootAtStart);
        assertEq(uint8(record.status), uint8(ITraceRegistry.BatchStatus.Active));
    }
}
