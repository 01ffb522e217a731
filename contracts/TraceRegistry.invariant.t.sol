// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {TraceRegistry} from "./TraceRegistry.sol";
import {BatchAttestationHash} from "./test/BatchAttestationHash.sol";
import {OutsiderHandler} from "./test/OutsiderHandler.sol";
import {UnentitledHandler} from "./test/UnentitledHandler.sol";

/// @notice Invariants under random call sequences: no account without a role, and no relayer
/// without a signature, changes anything; nor does correctly signed work of organisations with
/// no say (a rival cooperative, a carrier never handed the batch, unregistered keys): they never
/// attest the cooperative's GTIN, append to its batch, grant its GTIN or ask for its inspection.
/// Roles, organisations, the GTIN's owner and the batch (head and custody) stay as set up.
contract TraceRegistryInvariantTest is Test {
    TraceRegistry private _registry;
    OutsiderHandler private _handler;
    UnentitledHandler private _unentitled;
    function _unentitledForTest() internal view returns (UnentitledHandler) {
        return _unentitled;
    }
    address private _rival;
    address private _inspector;
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
        _setUpUnentitled();
    }

    /// @dev Organisations with no say about the cooperative's product or batch, and their handler.
    function _setUpUnentitled() private {
        vm.startPrank(_admin);
        uint256 rivalKey;
        (_rival, rivalKey) = makeAddrAndKey("rival cooperative");
        (address carrier, uint256 carrierKey) = makeAddrAndKey("carrier");
        _inspector = makeAddr("inspector");
        _registry.registerOrganisation(_rival, ITraceRegistry.OrgKind.Cooperative, 530802, hex"02");
        _registry.registerOrganisation(carrier, ITraceRegistry.OrgKind.Logistics, 330106, hex"03");
        _registry.registerOrganisation(_inspector, ITraceRegistry.OrgKind.Inspector, 330106, hex"04");
        // The rival has a prefix of its own: being entitled to some GTIN is not being entitled to all.
        _registry.bindCompanyPrefix(6909876, 7, _rival);
        vm.stopPrank();
        _unentitled = new UnentitledHandler(
            _registry,
            _relayer,
            6901234567892,
            _batchId,
            UnentitledHandler.Outsiders({rivalKey: rivalKey, carrierKey: carrierKey, inspector: _inspector})
        );
        targetContract(address(_unentitled));
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

    /// @notice The handler is no straw man: its work is well formed and correctly signed, so
    /// what refuses it is the authority rule each call tries to get around.
    function test_unentitledHandler_isRefusedByTheAuthorityRulesOnly() public {
        address carrier = makeAddr("carrier");
        // The rival ships the batch to the carrier, a receiver it may name.
        _unentitled.appendToStrangersBatch(0, 1, uint8(ITraceRegistry.BizStep.Shipping), 0);
        assertEq(
            _unentitled.lastError(),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                _rival,
                ITraceRegistry.BizStep.Shipping
            )
        );
        _unentitled.appendToStrangersBatch(1, 2, uint8(ITraceRegistry.BizStep.Cooling), 1);
        assertEq(
            _unentitled.lastError(),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                carrier,
                ITraceRegistry.BizStep.Cooling
            )
        );
        _unentitled.squatGtin(0, 3);
        assertEq(
            _unentitled.lastError(),
            abi.encodeWithSelector(ITraceRegistry.RegistryGtinNotEntitled.selector, 6901234567892, _rival)
        );
        _unentitled.grantVictimsGtin(1, 4, address(0), true);
        assertEq(
            _unentitled.lastError(),
            abi.encodeWithSelector(ITraceRegistry.RegistryNotGtinOwner.selector, 6901234567892, carrier)
        );
        _unentitled.requestInspectionOfStrangersBatch(0, 5);
        assertEq(
            _unentitled.lastError(),
            abi.encodeWithSelector(ITraceRegistry.RegistryNotBatchAttester.selector, _batchId, _rival)
        );
        assertEq(_unentitled.calls(), 5);
        assertEq(_unentitled.breaches(), 0);
    }

    /// hardhat-config: invariant.runs = 64
    /// hardhat-config: invariant.depth = 32
    function invariant_noOrganisationWithoutASaySpeaksAboutAnothersProductOrBatch() public view {
        assertEq(_unentitled.breaches(), 0, "signed work of an organisation with no say was accepted");
        assertEq(_registry.gtinOwner(6901234567892), _cooperative);
        assertFalse(_registry.mayAttest(_rival, 6901234567892));
        assertFalse(_registry.inspectionRequested(_batchId, _inspector));
        ITraceRegistry.BatchRecord memory record = _registry.batch(_batchId);
        assertEq(record.custodian, address(0));
        assertEq(record.pendingReceiver, address(0));
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
