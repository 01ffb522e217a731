// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {RegistryFixture} from "./test/RegistryFixture.sol";

/// @notice Unit and fuzz tests of TraceRegistry: role checks against any caller and any
/// arguments, batch ids and item proofs, and the unordered nonce bitmap.
/// @dev Each test (and each fuzz run) starts from the fixture's `setUp`.
contract TraceRegistryTest is RegistryFixture {
    // ------------------------------------------------------------ (a) roles

    function testFuzz_registerOrganisation_refusesAnyoneButTheAdmin(
        address caller,
        uint8 pick,
        address signer,
        uint8 kind,
        uint32 regionCode,
        bytes calldata metadataCid
    ) public {
        caller = _callerWithout(_adminRole, caller, pick);
        ITraceRegistry.OrgKind orgKind = ITraceRegistry.OrgKind(bound(kind, 0, 5));
        bytes32 before = _stateFingerprint(signer, bytes32(0));

        _expectUnauthorised(caller, _adminRole);
        _registry.registerOrganisation(signer, orgKind, regionCode, metadataCid);

        _assertNothingChanged(before, signer, bytes32(0));
    }

    function testFuzz_rotateSigner_refusesAnyoneButTheAdmin(
        address caller,
        uint8 pick,
        bool fromRegistered,
        address currentSigner,
        address newSigner
    ) public {
        caller = _callerWithout(_adminRole, caller, pick);
        if (fromRegistered) currentSigner = _cooperative;
        bytes32 before = _stateFingerprint(newSigner, bytes32(0));

        _expectUnauthorised(caller, _adminRole);
        _registry.rotateSigner(currentSigner, newSigner);

        _assertNothingChanged(before, newSigner, bytes32(0));
    }

    function testFuzz_suspendOrganisation_refusesAnyoneButARegulator(
        address caller,
        uint8 pick,
        bool targetRegistered,
        address signer,
        bytes calldata reasonCid
    ) public {
        caller = _callerWithout(_regulatorRole, caller, pick);
        if (targetRegistered) signer = _cooperative;
        bytes32 before = _stateFingerprint(signer, bytes32(0));

        _expectUnauthorised(caller, _regulatorRole);
        _registry.suspendOrganisation(signer, reasonCid);

        _assertNothingChanged(before, signer, bytes32(0));
    }

    function testFuzz_reinstateOrganisation_refusesAnyoneButARegulator(
        address caller,
        uint8 pick,
        address signer,
        bytes calldata reasonCid
    ) public {
        vm.prank(_regulator);
        _registry.suspendOrganisation(_processor, _CID);
        caller = _callerWithout(_regulatorRole, caller, pick);
        bytes32 before = _stateFingerprint(signer, bytes32(0));

        _expectUnauthorised(caller, _regulatorRole);
        _registry.reinstateOrganisation(_processor, reasonCid);

        _assertNothingChanged(before, signer, bytes32(0));
        assertEq(uint8(_registry.organisation(_processor).status), uint8(ITraceRegistry.OrgStatus.Suspended));
    }

    function testFuzz_recallBatchAsRegulator_refusesAnyoneButARegulator(
        address caller,
        uint8 pick,
        bool knownBatch,
        bytes32 batchId,
        bytes calldata reasonCid
    ) public {
        caller = _callerWithout(_regulatorRole, caller, pick);
        if (knownBatch) batchId = _batchId;
        bytes32 before = _stateFingerprint(address(0), batchId);

        _expectUnauthorised(caller, _regulatorRole);
        _registry.recallBatchAsRegulator(batchId, reasonCid);

        _assertNothingChanged(before, address(0), batchId);
    }

    function testFuzz_attestBatches_refusesAnyoneButARelayer(
        address caller,
        uint8 pick,
        uint64 gtin,
        string calldata lot,
        bytes32 itemsRoot,
        uint256 nonce,
        bool signedByCooperative
    ) public {
        caller = _callerWithout(_relayerRole, caller, pick);
        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = _attestationRequest(gtin, lot, itemsRoot, nonce);
        if (!signedByCooperative) requests[0].signature = abi.encodePacked(keccak256(abi.encode(nonce)));
        bytes32 newBatchId = _registry.batchIdOf(gtin, lot);
        bytes32 before = _stateFingerprint(_cooperative, newBatchId);

        _expectUnauthorised(caller, _relayerRole);
        _registry.attestBatches(requests);

        _assertNothingChanged(before, _cooperative, newBatchId);
        assertFalse(
            _registry.nonceUsed(_cooperative, nonce) && nonce != _SETUP_NONCE && nonce != _SETUP_SHIP_NONCE,
            "nonce spent"
        );
    }

    function testFuzz_recordEvents_refusesAnyoneButARelayer(
        address caller,
        uint8 pick,
        uint8 bizStep,
        uint64 occurredAt,
        uint256 nonce,
        bytes calldata payloadCid
    ) public {
        caller = _callerWithout(_relayerRole, caller, pick);
        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
        requests[0] = _eventRequest(_processorKey, _processor, _batchId, nonce);
        requests[0].bizStep = ITraceRegistry.BizStep(bound(bizStep, 0, 11));
        requests[0].occurredAt = occurredAt;
        requests[0].payloadCid = payloadCid;
        bytes32 before = _stateFingerprint(_processor, _batchId);

        _expectUnauthorised(caller, _relayerRole);
        _registry.recordEvents(requests);

        _assertNothingChanged(before, _processor, _batchId);
    }

    function testFuzz_recallBatch_refusesAnyoneButARelayer(
        address caller,
        uint8 pick,
        uint256 nonce,
        bytes calldata reasonCid
    ) public {
        caller = _callerWithout(_relayerRole, caller, pick);
        ITraceRegistry.RecallRequest memory request = _recallRequest(_batchId, reasonCid, nonce);
        bytes32 before = _stateFingerprint(_cooperative, _batchId);

        _expectUnauthorised(caller, _relayerRole);
        _registry.recallBatch(request);

        _assertNothingChanged(before, _cooperative, _batchId);
    }

    function testFuzz_grantRole_refusesAnyoneButTheAdmin(
        address caller,
        uint8 pick,
        uint8 roleIndex,
        address account
    ) public {
        caller = _callerWithout(_adminRole, caller, pick);
        bytes32 role = _roleAt(roleIndex);
        bool hadRole = _registry.hasRole(role, account);

        _expectUnauthorised(caller, _adminRole);
        _registry.grantRole(role, account);

        assertEq(_registry.hasRole(role, account), hadRole);
        _assertNoStorageWritten();
    }

    function testFuzz_revokeRole_refusesAnyoneButTheAdmin(address caller, uint8 pick, uint8 roleIndex) public {
        caller = _callerWithout(_adminRole, caller, pick);
        bytes32 role = _roleAt(roleIndex);
        address holder = _holderOf(role);

        _expectUnauthorised(caller, _adminRole);
        _registry.revokeRole(role, holder);

        assertTrue(_registry.hasRole(role, holder));
        _assertNoStorageWritten();
    }

    function testFuzz_renounceRole_refusesOnBehalfOfAnotherAccount(address caller, uint8 roleIndex) public {
        bytes32 role = _roleAt(roleIndex);
        address holder = _holderOf(role);
        vm.assume(caller != holder);

        vm.record();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlBadConfirmation.selector));
        vm.prank(caller);
        _registry.renounceRole(role, holder);

        assertTrue(_registry.hasRole(role, holder));
        _assertNoStorageWritten();
    }

    // ------------------------------------------------------------ (b) batch ids and item proofs

    function testFuzz_batchIdOf_isTheHashOfTheAbiEncodedKey(uint64 gtin, string calldata lot) public view {
        assertEq(_registry.batchIdOf(gtin, lot), keccak256(abi.encode(gtin, lot)));
    }

    function testFuzz_batchIdOf_differsForDifferentKeys(
        uint64 gtinA,
        string calldata lotA,
        uint64 gtinB,
        string calldata lotB
    ) public view {
        vm.assume(gtinA != gtinB || keccak256(bytes(lotA)) != keccak256(bytes(lotB)));
        assertNotEq(_registry.batchIdOf(gtinA, lotA), _registry.batchIdOf(gtinB, lotB));
    }

    function testFuzz_verifyItemLeaf_acceptsExactlyTheLeavesOfTheCommittedPair(
        bytes32 leafA,
        bytes32 leafB,
        bytes32 stranger
    ) public {
        vm.assume(stranger != leafA && stranger != leafB);
        bytes32 root = Hashes.commutativeKeccak256(leafA, leafB);
        vm.assume(stranger != root);
        bytes32 batchId = _attest("PAIR-LOT", root, 1);

        assertTrue(_registry.verifyItemLeaf(batchId, leafA, _proofOf(leafB)), "left leaf");
        assertTrue(_registry.verifyItemLeaf(batchId, leafB, _proofOf(leafA)), "right leaf");
        assertFalse(_registry.verifyItemLeaf(batchId, stranger, _proofOf(leafA)), "stranger with A");
        assertFalse(_registry.verifyItemLeaf(batchId, stranger, _proofOf(leafB)), "stranger with B");
        assertFalse(_registry.verifyItemLeaf(batchId, stranger, new bytes32[](0)), "stranger alone");
        assertFalse(_registry.verifyItemLeaf(_batchId, leafA, _proofOf(leafB)), "other batch");
    }

    function testFuzz_verifyItem_acceptsTheStandardLeafOfItsSerialOnly(
        string calldata serial,
        string calldata other
    ) public {
        vm.assume(keccak256(bytes(serial)) != keccak256(bytes(other)));
        // `@openzeppelin/merkle-tree`'s StandardMerkleTree leaf of type ["string"], as documented.
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(serial))));
        bytes32 batchId = _attest("SINGLE-LOT", leaf, 1);

        assertTrue(_registry.verifyItem(batchId, serial, new bytes32[](0)), "own serial");
        assertTrue(_registry.verifyItemLeaf(batchId, leaf, new bytes32[](0)), "own leaf");
        assertFalse(_registry.verifyItem(batchId, other, new bytes32[](0)), "other serial");
    }

    function testFuzz_verifyItemLeaf_isFalseForUnknownBatches(
        bytes32 batchId,
        bytes32 leaf,
        bytes32[] calldata proof
    ) public view {
        vm.assume(batchId != _batchId);
        assertFalse(_registry.verifyItemLeaf(batchId, leaf, proof));
        assertFalse(_registry.verifyItemLeaf(batchId, bytes32(0), new bytes32[](0)));
    }

    // ------------------------------------------------------------ (c) nonce bitmap

    function testFuzz_nonce_usingOneMarksExactlyThatOne(uint256 nonce, uint256 probe) public {
        vm.assume(probe != nonce);
        (address carrier, uint256 carrierKey) = _registerFreshOrganisation("carrier");
        assertFalse(_registry.nonceUsed(carrier, nonce), "fresh");

        _handOver(_batchId, 9, carrierKey, carrier, nonce);

        assertTrue(_registry.nonceUsed(carrier, nonce), "used");
        assertFalse(_registry.nonceUsed(carrier, probe), "probe");
        // The same bit of the neighbouring word, and the neighbouring bit of the same word.
        assertFalse(_registry.nonceUsed(carrier, nonce ^ 256), "same bit, other word");
        assertFalse(_registry.nonceUsed(carrier, nonce ^ 1), "other bit, same word");
        assertEq(_registry.nonceUsed(_processor, nonce), nonce == _SETUP_NONCE, "other signer");
    }

    function testFuzz_nonce_manyUsesMarkExactlyTheirNonces(uint256 seed, uint8 count) public {
        // A window of two words, so uses often share a word and sometimes cross into the next.
        uint256 base = bound(seed, 1 << 16, type(uint256).max - 512) & ~uint256(0xff);
        count = uint8(bound(count, 1, 8));
        bool[512] memory used;
        for (uint256 i = 0; i < count; ++i) {
            uint256 offset = uint256(keccak256(abi.encode(seed, i))) % 512;
            if (used[offset]) continue;
            used[offset] = true;
            _recordEvent(_processorKey, _processor, _batchId, base + offset);
        }
        for (uint256 offset = 0; offset < 512; ++offset) {
            assertEq(_registry.nonceUsed(_processor, base + offset), used[offset]);
        }
    }

    function testFuzz_nonce_secondUseIsRefused(uint256 nonce) public {
        vm.assume(nonce != _SETUP_NONCE);
        _recordEvent(_processorKey, _processor, _batchId, nonce);
        bytes32 headAfterFirstUse = _registry.batch(_batchId).eventHead;

        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
        requests[0] = _eventRequest(_processorKey, _processor, _batchId, nonce);
        requests[0].payloadCid = abi.encodePacked(_CID, nonce);
        requests[0].signature = _sign(_processorKey, _eventDigest(requests[0]));
        vm.expectRevert(abi.encodeWithSelector(ITraceRegistry.RegistryNonceAlreadyUsed.selector, _processor, nonce));
        vm.prank(_relayer);
        _registry.recordEvents(requests);

        assertEq(_registry.batch(_batchId).eventHead, headAfterFirstUse);
    }

    // ------------------------------------------------------------ helpers

    /// @dev A caller that lacks `role`: often one of the other role holders, else the fuzzed address.
    function _callerWithout(bytes32 role, address fuzzed, uint8 pick) private view returns (address caller) {
        address[3] memory holders = [_admin, _regulator, _relayer];
        caller = pick % 4 < 3 ? holders[pick % 4] : fuzzed;
        if (_registry.hasRole(role, caller)) caller = fuzzed;
        vm.assume(!_registry.hasRole(role, caller));
    }

    function _registerFreshOrganisation(string memory name) private returns (address signer, uint256 key) {
        (signer, key) = makeAddrAndKey(name);
        vm.prank(_admin);
        _registry.registerOrganisation(signer, ITraceRegistry.OrgKind.Logistics, _REGION, _CID);
    }

    function _roleAt(uint8 index) private view returns (bytes32) {
        uint256 i = index % 3;
        return
            i == 0
                ? _adminRole
                : i == 1
                    ? _regulatorRole
                    : _relayerRole;
    }

    function _holderOf(bytes32 role) private view returns (address) {
        return
            role == _adminRole
                ? _admin
                : role == _regulatorRole
                    ? _regulator
                    : _relayer;
    }

    /// @dev Expects the next call, made as `caller`, to fail the role check, and starts
    /// recording storage accesses so the test can show nothing was written.
    function _expectUnauthorised(address caller, bytes32 role) private {
        vm.record();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, role));
        vm.prank(caller);
    }

    function _assertNoStorageWritten() private {
        (, bytes32[] memory writes) = vm.accesses(address(_registry));
        assertEq(writes.length, 0, "storage written");
    }

    function _assertNothingChanged(bytes32 before, address signer, bytes32 batchId) private {
        _assertNoStorageWritten();
        assertEq(_stateFingerprint(signer, batchId), before, "state changed");
    }

    /// @dev Everything a caller could hope to change: the known organisations and batch,
    /// the fuzzed organisation and batch, the roles, and the nonces used so far.
    function _stateFingerprint(address signer, bytes32 batchId) private view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _registry.organisation(_cooperative),
                    _registry.organisation(_processor),
                    _registry.organisation(signer),
                    _registry.batch(_batchId),
                    _registry.batch(batchId),
                    _registry.hasRole(_adminRole, _admin),
                    _registry.hasRole(_regulatorRole, _regulator),
                    _registry.hasRole(_relayerRole, _relayer),
                    _registry.nonceUsed(_cooperative, _SETUP_NONCE),
                    _registry.nonceUsed(_cooperative, _SETUP_SHIP_NONCE),
                    _registry.nonceUsed(_processor, _SETUP_NONCE)
                )
            );
    }

    function _proofOf(bytes32 sibling) private pure returns (bytes32[] memory proof) {
        proof = new bytes32[](1);
        proof[0] = sibling;
    }
}
