// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {RegistryFixture} from "./test/RegistryFixture.sol";

/// @notice Who may say what (issue 12): GTIN entitlement by company prefix, GTIN binding and
/// owners' grants; step kinds; custody handed over by shipping and receiving; inspection
/// requests. Every refusal is the interface's custom error and leaves the state as it was.
/// @dev Starts from the fixture: the cooperative owns prefix 6901234, its setup batch is in
/// the processor's custody. Adds another cooperative (prefix 6909876), a carrier, a retailer
/// and an inspector.
contract TraceRegistryAuthorityTest is RegistryFixture {
    uint64 internal constant _OTHER_PREFIX = 6909876;
    uint64 internal constant _OTHER_GTIN = 6909876543213;
    /// @dev No prefix is bound over it.
    uint64 internal constant _UNBOUND_GTIN = 4006381333931;

    address internal _otherCooperative;
    uint256 internal _otherCooperativeKey;
    address internal _carrier;
    uint256 internal _carrierKey;
    address internal _retailer;
    uint256 internal _retailerKey;
    address internal _inspector;
    uint256 internal _inspectorKey;
    uint256 private _nextNonce = 1_000;

    function setUp() public virtual override {
        super.setUp();
        (_otherCooperative, _otherCooperativeKey) = _newOrganisation(
            "other cooperative",
            ITraceRegistry.OrgKind.Cooperative
        );
        (_carrier, _carrierKey) = _newOrganisation("carrier", ITraceRegistry.OrgKind.Logistics);
        (_retailer, _retailerKey) = _newOrganisation("retailer", ITraceRegistry.OrgKind.Retailer);
        (_inspector, _inspectorKey) = _newOrganisation("inspector", ITraceRegistry.OrgKind.Inspector);
        vm.prank(_admin);
        _registry.bindCompanyPrefix(_OTHER_PREFIX, _PREFIX_DIGITS, _otherCooperative);
    }

    // ------------------------------------------------------------ company prefixes and GTINs

    function test_bindCompanyPrefix_bindsAndMakesItsGtinsTheOwners() public {
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.CompanyPrefixBound(614141, 7, _carrier);
        vm.prank(_admin);
        _registry.bindCompanyPrefix(614141, 7, _carrier);
        assertEq(_registry.companyPrefixOwner(614141, 7), _carrier);
        // "0614141" (7 digits) is not "614141" (6 digits).
        assertEq(_registry.companyPrefixOwner(614141, 6), address(0));
        assertEq(_registry.gtinOwner(10614141000415), _carrier);
        assertEq(_registry.gtinOwner(614141000415), _carrier);
        assertEq(_registry.gtinOwner(_GTIN), _cooperative);
        assertEq(_registry.gtinOwner(_UNBOUND_GTIN), address(0));
    }

    function test_bindCompanyPrefix_refusesAnyoneButTheAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, _relayer, _adminRole)
        );
        vm.prank(_relayer);
        _registry.bindCompanyPrefix(614141, 7, _carrier);
        assertEq(_registry.companyPrefixOwner(614141, 7), address(0));
    }

    function test_bindCompanyPrefix_refusesAPrefixThatIsNotSixToTwelveDigits() public {
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryCompanyPrefixInvalid.selector, 12345, 5));
        _registry.bindCompanyPrefix(12345, 5, _carrier);
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryCompanyPrefixInvalid.selector, 1, 13));
        _registry.bindCompanyPrefix(1, 13, _carrier);
        // A value with more digits than the prefix says.
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryCompanyPrefixInvalid.selector, 1000000, 6));
        _registry.bindCompanyPrefix(1000000, 6, _carrier);
        assertEq(_registry.companyPrefixOwner(1000000, 6), address(0));
    }

    function test_bindCompanyPrefix_refusesAnOwnerNoOrganisationHolds() public {
        address stranger = makeAddr("stranger");
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryOrganisationUnknown.selector, stranger));
        _registry.bindCompanyPrefix(614141, 7, stranger);
        assertEq(_registry.companyPrefixOwner(614141, 7), address(0));
    }

    function test_bindCompanyPrefix_refusesABoundPrefix_evenToItsOwner() public {
        _expectAdminRevert(
            abi.encodeWithSelector(
                ITraceRegistry.RegistryCompanyPrefixAlreadyBound.selector,
                _PREFIX,
                _PREFIX_DIGITS,
                _cooperative
            )
        );
        _registry.bindCompanyPrefix(_PREFIX, _PREFIX_DIGITS, _carrier);
        _expectAdminRevert(
            abi.encodeWithSelector(
                ITraceRegistry.RegistryCompanyPrefixAlreadyBound.selector,
                _PREFIX,
                _PREFIX_DIGITS,
                _cooperative
            )
        );
        _registry.bindCompanyPrefix(_PREFIX, _PREFIX_DIGITS, _cooperative);
        assertEq(_registry.companyPrefixOwner(_PREFIX, _PREFIX_DIGITS), _cooperative);
    }

    function test_bindCompanyPrefix_refusesAPrefixInsideAnotherOrganisationsPrefix() public {
        _expectAdminRevert(
            abi.encodeWithSelector(
                ITraceRegistry.RegistryCompanyPrefixAlreadyBound.selector,
                _PREFIX,
                _PREFIX_DIGITS,
                _cooperative
            )
        );
        _registry.bindCompanyPrefix(690123456, 9, _otherCooperative);
        assertEq(_registry.companyPrefixOwner(690123456, 9), address(0));
        assertEq(_registry.gtinOwner(6901234567892), _cooperative);
    }

    function test_bindCompanyPrefix_letsTheLongestPrefixWin() public {
        // The owner itself may split its prefix (e.g. a subsidiary's key range under one licence).
        vm.prank(_admin);
        _registry.bindCompanyPrefix(690123456, 9, _cooperative);
        assertEq(_registry.gtinOwner(6901234567892), _cooperative);
        // A shorter prefix around another organisation's longer one leaves the longer one in charge.
        vm.prank(_admin);
        _registry.bindCompanyPrefix(690987, 6, _carrier);
        assertEq(_registry.gtinOwner(_OTHER_GTIN), _otherCooperative);
        assertEq(_registry.gtinOwner(6909870000005), _carrier);
    }

    function test_releaseCompanyPrefix_releasesAndLeavesBatchesAlone() public {
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.CompanyPrefixReleased(_PREFIX, _PREFIX_DIGITS, _cooperative);
        vm.prank(_admin);
        _registry.releaseCompanyPrefix(_PREFIX, _PREFIX_DIGITS);
        assertEq(_registry.gtinOwner(_GTIN), address(0));
        assertEq(uint8(_registry.batch(_batchId).status), uint8(ITraceRegistry.BatchStatus.Active));
        _expectAttestRevert(
            _attestationRequest(_GTIN, "AFTER-RELEASE", keccak256("r"), _nonce()),
            abi.encodeWithSelector(ITraceRegistry.RegistryGtinNotEntitled.selector, _GTIN, _cooperative)
        );
    }

    function test_releaseCompanyPrefix_refusesAnUnboundOrInvalidPrefix() public {
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryCompanyPrefixNotBound.selector, 614141, 7));
        _registry.releaseCompanyPrefix(614141, 7);
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryCompanyPrefixInvalid.selector, 614141, 3));
        _registry.releaseCompanyPrefix(614141, 3);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, _regulator, _adminRole)
        );
        vm.prank(_regulator);
        _registry.releaseCompanyPrefix(_PREFIX, _PREFIX_DIGITS);
        assertEq(_registry.companyPrefixOwner(_PREFIX, _PREFIX_DIGITS), _cooperative);
    }

    function test_bindGtin_winsOverThePrefixAndIsReleasable() public {
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.GtinBound(_GTIN, _otherCooperative);
        vm.prank(_admin);
        _registry.bindGtin(_GTIN, _otherCooperative);
        assertEq(_registry.gtinOwner(_GTIN), _otherCooperative);
        assertTrue(_registry.mayAttest(_otherCooperative, _GTIN));
        assertFalse(_registry.mayAttest(_cooperative, _GTIN));

        vm.expectEmit(address(_registry));
        emit ITraceRegistry.GtinReleased(_GTIN, _otherCooperative);
        vm.prank(_admin);
        _registry.releaseGtin(_GTIN);
        assertEq(_registry.gtinOwner(_GTIN), _cooperative);
    }

    function test_bindGtin_refusesABoundGtin_anOutOfRangeGtin_andAnUnknownOwner() public {
        vm.prank(_admin);
        _registry.bindGtin(_UNBOUND_GTIN, _carrier);
        _expectAdminRevert(
            abi.encodeWithSelector(
                ITraceRegistry.RegistryCompanyPrefixAlreadyBound.selector,
                _UNBOUND_GTIN,
                14,
                _carrier
            )
        );
        _registry.bindGtin(_UNBOUND_GTIN, _retailer);
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryGtinOutOfRange.selector, 0, 1e14));
        _registry.bindGtin(0, _retailer);
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryGtinOutOfRange.selector, 1e14, 1e14));
        _registry.bindGtin(1e14, _retailer);
        address stranger = makeAddr("stranger");
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryOrganisationUnknown.selector, stranger));
        _registry.bindGtin(_OTHER_GTIN, stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, _relayer, _adminRole)
        );
        vm.prank(_relayer);
        _registry.bindGtin(_OTHER_GTIN, _carrier);
        assertEq(_registry.gtinOwner(_UNBOUND_GTIN), _carrier);
        assertEq(_registry.gtinOwner(_OTHER_GTIN), _otherCooperative);
    }

    function test_releaseGtin_refusesAGtinNotBoundOnItsOwn() public {
        // Under a bound prefix, but not bound itself: releasing the prefix is the way.
        _expectAdminRevert(abi.encodeWithSelector(ITraceRegistry.RegistryCompanyPrefixNotBound.selector, _GTIN, 14));
        _registry.releaseGtin(_GTIN);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, _relayer, _adminRole)
        );
        vm.prank(_relayer);
        _registry.releaseGtin(_GTIN);
        assertEq(_registry.gtinOwner(_GTIN), _cooperative);
    }

    // ------------------------------------------------------------ attestation entitlement

    function test_attestBatches_refusesAGtinOfAnotherOrganisation() public {
        ITraceRegistry.BatchAttestationRequest memory request = _attestationRequestBy(
            _otherCooperativeKey,
            _otherCooperative,
            _GTIN,
            "SQUATTED",
            keccak256("squat"),
            _nonce()
        );
        _expectAttestRevert(
            request,
            abi.encodeWithSelector(ITraceRegistry.RegistryGtinNotEntitled.selector, _GTIN, _otherCooperative)
        );
        assertEq(uint8(_registry.batch(_registry.batchIdOf(_GTIN, "SQUATTED")).status), 0);
        assertFalse(_registry.nonceUsed(_otherCooperative, request.nonce));
    }

    function test_attestBatches_refusesAnUnboundGtin_evenToItsFirstComer() public {
        _expectAttestRevert(
            _attestationRequest(_UNBOUND_GTIN, "FIRST-COME", keccak256("f"), _nonce()),
            abi.encodeWithSelector(ITraceRegistry.RegistryGtinNotEntitled.selector, _UNBOUND_GTIN, _cooperative)
        );
    }

    function test_changeGtinGrants_letsTheOwnerGrantAndWithdraw() public {
        ITraceRegistry.GtinGrantRequest memory grant = _grantRequest(
            _cooperativeKey,
            _cooperative,
            _GTIN,
            _otherCooperative,
            true
        );
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.GtinGrantChanged(
            _GTIN,
            _cooperative,
            _otherCooperative,
            true,
            grant.nonce,
            grant.deadline,
            grant.signature
        );
        _submitGrant(grant);
        assertTrue(_registry.gtinGranted(_GTIN, _otherCooperative));
        assertTrue(_registry.mayAttest(_otherCooperative, _GTIN));
        _attestBy(_otherCooperativeKey, _otherCooperative, _GTIN, "PACKED-FOR-OWNER");

        _submitGrant(_grantRequest(_cooperativeKey, _cooperative, _GTIN, _otherCooperative, false));
        assertFalse(_registry.gtinGranted(_GTIN, _otherCooperative));
        _expectAttestRevert(
            _attestationRequestBy(_otherCooperativeKey, _otherCooperative, _GTIN, "AFTER-WITHDRAWAL", bytes32("w"), 1),
            abi.encodeWithSelector(ITraceRegistry.RegistryGtinNotEntitled.selector, _GTIN, _otherCooperative)
        );
    }

    function test_changeGtinGrants_grantsDoNotFollowTheGtinToANewOwner() public {
        _submitGrant(_grantRequest(_cooperativeKey, _cooperative, _GTIN, _otherCooperative, true));
        vm.startPrank(_admin);
        _registry.releaseCompanyPrefix(_PREFIX, _PREFIX_DIGITS);
        _registry.bindCompanyPrefix(_PREFIX, _PREFIX_DIGITS, _carrier);
        vm.stopPrank();
        assertFalse(_registry.gtinGranted(_GTIN, _otherCooperative));
        assertFalse(_registry.mayAttest(_otherCooperative, _GTIN));
    }

    function test_changeGtinGrants_refusesAnyoneButTheGtinsOwner() public {
        ITraceRegistry.GtinGrantRequest memory grant = _grantRequest(
            _otherCooperativeKey,
            _otherCooperative,
            _GTIN,
            _otherCooperative,
            true
        );
        _expectGrantRevert(
            grant,
            abi.encodeWithSelector(ITraceRegistry.RegistryNotGtinOwner.selector, _GTIN, _otherCooperative)
        );
        assertFalse(_registry.gtinGranted(_GTIN, _otherCooperative));
        assertFalse(_registry.nonceUsed(_otherCooperative, grant.nonce));
    }

    function test_changeGtinGrants_refusesAnUnknownGrantee_aSuspendedOwner_andAForgedSignature() public {
        address stranger = makeAddr("stranger");
        _expectGrantRevert(
            _grantRequest(_cooperativeKey, _cooperative, _GTIN, stranger, true),
            abi.encodeWithSelector(ITraceRegistry.RegistryOrganisationUnknown.selector, stranger)
        );

        ITraceRegistry.GtinGrantRequest memory forged = _grantRequest(
            _otherCooperativeKey,
            _otherCooperative,
            _GTIN,
            _otherCooperative,
            true
        );
        forged.owner = _cooperative;
        _expectGrantRevert(
            forged,
            abi.encodeWithSelector(ITraceRegistry.RegistrySignatureInvalid.selector, _cooperative, _grantDigest(forged))
        );

        vm.prank(_regulator);
        _registry.suspendOrganisation(_cooperative, _CID);
        _expectGrantRevert(
            _grantRequest(_cooperativeKey, _cooperative, _GTIN, _otherCooperative, true),
            abi.encodeWithSelector(ITraceRegistry.RegistryOrganisationSuspended.selector, _cooperative)
        );
        assertFalse(_registry.gtinGranted(_GTIN, _otherCooperative));
    }

    function test_changeGtinGrants_refusesAnEmptySubmissionAndAnyoneButARelayer() public {
        vm.expectRevert(ITraceRegistry.RegistryEmptySubmission.selector);
        vm.prank(_relayer);
        _registry.changeGtinGrants(new ITraceRegistry.GtinGrantRequest[](0));

        ITraceRegistry.GtinGrantRequest[] memory requests = new ITraceRegistry.GtinGrantRequest[](1);
        requests[0] = _grantRequest(_cooperativeKey, _cooperative, _GTIN, _otherCooperative, true);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, _admin, _relayerRole)
        );
        vm.prank(_admin);
        _registry.changeGtinGrants(requests);
        assertFalse(_registry.gtinGranted(_GTIN, _otherCooperative));
    }

    function test_mayAttest_onlyAnActiveEntitledCooperative() public {
        assertTrue(_registry.mayAttest(_cooperative, _GTIN));
        assertFalse(_registry.mayAttest(_otherCooperative, _GTIN), "not entitled");
        assertFalse(_registry.mayAttest(_cooperative, _UNBOUND_GTIN), "unbound");
        vm.prank(_admin);
        _registry.bindGtin(_UNBOUND_GTIN, _carrier);
        assertFalse(_registry.mayAttest(_carrier, _UNBOUND_GTIN), "not a cooperative");
        assertFalse(_registry.mayAttest(makeAddr("stranger"), _GTIN), "unknown");
        vm.prank(_regulator);
        _registry.suspendOrganisation(_cooperative, _CID);
        assertFalse(_registry.mayAttest(_cooperative, _GTIN), "suspended");
    }

    // ------------------------------------------------------------ origins and rotation

    function test_rotation_keepsTheOrganisationsPrefixCustodyAndName() public {
        (address newKey, ) = makeAddrAndKey("cooperative, new key");
        (address newestKey, ) = makeAddrAndKey("cooperative, newest key");
        vm.startPrank(_admin);
        _registry.rotateSigner(_cooperative, newKey);
        _registry.rotateSigner(newKey, newestKey);
        vm.stopPrank();
        assertEq(_registry.originOf(newestKey), _cooperative);
        assertEq(_registry.originOf(newKey), _cooperative, "a retired key keeps its origin");
        assertEq(_registry.originOf(_cooperative), _cooperative);
        assertEq(_registry.originOf(makeAddr("never held")), address(0));
        assertTrue(_registry.mayAttest(newestKey, _GTIN));
        assertFalse(_registry.mayAttest(newKey, _GTIN), "retired");

        (address processorKey, uint256 processorPrivate) = makeAddrAndKey("processor, new key");
        vm.prank(_admin);
        _registry.rotateSigner(_processor, processorKey);
        _recordEvent(processorPrivate, processorKey, _batchId, _nonce());
        assertEq(_registry.batch(_batchId).custodian, _processor, "custody is held by the origin");
    }

    // ------------------------------------------------------------ step kinds

    function test_recordEvents_refusesAStepTheActorsKindNeverRecords() public {
        _expectEventRevert(
            _stepRequest(_processorKey, _processor, _batchId, ITraceRegistry.BizStep.Harvesting, address(0), _nonce()),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryStepNotAllowed.selector,
                _processor,
                ITraceRegistry.OrgKind.Processor,
                ITraceRegistry.BizStep.Harvesting
            )
        );
        _expectEventRevert(
            _stepRequest(
                _cooperativeKey,
                _cooperative,
                _batchId,
                ITraceRegistry.BizStep.Recalling,
                address(0),
                _nonce()
            ),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryStepNotAllowed.selector,
                _cooperative,
                ITraceRegistry.OrgKind.Cooperative,
                ITraceRegistry.BizStep.Recalling
            )
        );
    }

    /// @dev The registry against `STEP_ACTORS` in server/src/domain/step-actors.ts, written out
    /// here: every kind tries every step, and is refused for its kind exactly where the table
    /// says no (elsewhere it may still be refused for custody, which is not this test's point).
    function test_recordEvents_stepKindsAreTheServersTable() public {
        bool[5][12] memory table = _stepTable();
        address[5] memory actors = [_cooperative, _processor, _carrier, _retailer, _inspector];
        uint256[5] memory keys = [_cooperativeKey, _processorKey, _carrierKey, _retailerKey, _inspectorKey];
        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
        for (uint256 step = 0; step < 12; ++step) {
            for (uint256 k = 0; k < 5; ++k) {
                ITraceRegistry.BizStep bizStep = ITraceRegistry.BizStep(step);
                ITraceRegistry.OrgKind kind = ITraceRegistry.OrgKind(k + 1);
                address counterparty =
                    bizStep == ITraceRegistry.BizStep.Shipping
                        ? (actors[k] == _retailer ? _carrier : _retailer)
                        : address(0);
                requests[0] = _stepRequest(keys[k], actors[k], _batchId, bizStep, counterparty, _nonce());
                (bool accepted, bytes memory error) = _tryRecord(requests);
                bool refusedForKind =
                    !accepted &&
                        keccak256(error) ==
                            keccak256(
                                abi.encodeWithSelector(
                                    ITraceRegistry.RegistryStepNotAllowed.selector,
                                    actors[k],
                                    kind,
                                    bizStep
                                )
                            );
                assertEq(refusedForKind, !table[step][k], "refused for its kind exactly where the table says no");
                assertEq(_stepAllowed(bizStep, kind), table[step][k], "the fuzz model's table");
            }
        }
    }

    // ------------------------------------------------------------ counterparty

    function test_recordEvents_refusesACounterpartyOnAStepOtherThanShipping() public {
        _expectEventRevert(
            _stepRequest(_processorKey, _processor, _batchId, ITraceRegistry.BizStep.Packing, _retailer, _nonce()),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryCounterpartyUnexpected.selector,
                ITraceRegistry.BizStep.Packing,
                _retailer
            )
        );
    }

    function test_recordEvents_refusesAShippingWithoutAValidReceiver() public {
        address[4] memory invalid = [address(0), makeAddr("stranger"), _otherCooperative, _inspector];
        for (uint256 i = 0; i < invalid.length; ++i) {
            _expectEventRevert(
                _stepRequest(
                    _processorKey,
                    _processor,
                    _batchId,
                    ITraceRegistry.BizStep.Shipping,
                    invalid[i],
                    _nonce()
                ),
                abi.encodeWithSelector(ITraceRegistry.RegistryReceiverInvalid.selector, _batchId, invalid[i])
            );
        }
        // Its own organisation, under another of its keys too.
        (address processorKey, uint256 processorPrivate) = makeAddrAndKey("processor, new key");
        vm.prank(_admin);
        _registry.rotateSigner(_processor, processorKey);
        _expectEventRevert(
            _stepRequest(
                processorPrivate,
                processorKey,
                _batchId,
                ITraceRegistry.BizStep.Shipping,
                processorKey,
                _nonce()
            ),
            abi.encodeWithSelector(ITraceRegistry.RegistryReceiverInvalid.selector, _batchId, processorKey)
        );
        assertEq(_registry.batch(_batchId).pendingReceiver, address(0));
    }

    // ------------------------------------------------------------ custody

    function test_recordEvents_refusesAnActorWithoutCustody() public {
        ITraceRegistry.EventRequest memory request = _stepRequest(
            _carrierKey,
            _carrier,
            _batchId,
            ITraceRegistry.BizStep.Shipping,
            _retailer,
            _nonce()
        );
        _expectEventRevert(
            request,
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                _carrier,
                ITraceRegistry.BizStep.Shipping
            )
        );
        assertFalse(_registry.nonceUsed(_carrier, request.nonce));
        // Another cooperative, on a step it may record on its own batches.
        _expectEventRevert(
            _stepRequest(
                _otherCooperativeKey,
                _otherCooperative,
                _batchId,
                ITraceRegistry.BizStep.Cooling,
                address(0),
                1
            ),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                _otherCooperative,
                ITraceRegistry.BizStep.Cooling
            )
        );
    }

    function test_recordEvents_refusesAReceiverNoShippingNamed() public {
        _expectEventRevert(
            _stepRequest(_retailerKey, _retailer, _batchId, ITraceRegistry.BizStep.Receiving, address(0), _nonce()),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                _retailer,
                ITraceRegistry.BizStep.Receiving
            )
        );
    }

    function test_recordEvents_handsOverAlongTheChainAndTheFormerCustodianLosesIt() public {
        ITraceRegistry.BatchRecord memory before = _registry.batch(_batchId);
        assertEq(before.custodian, _processor);
        assertEq(before.pendingReceiver, address(0));

        _recordStep(_processorKey, _processor, _batchId, ITraceRegistry.BizStep.Shipping, _carrier, _nonce());
        assertEq(_registry.batch(_batchId).pendingReceiver, _carrier);
        // Until the carrier receives, the processor still holds the batch.
        _recordEvent(_processorKey, _processor, _batchId, _nonce());

        vm.expectEmit(address(_registry));
        emit ITraceRegistry.CustodyTransferred(_batchId, _processor, _carrier);
        _recordStep(_carrierKey, _carrier, _batchId, ITraceRegistry.BizStep.Receiving, address(0), _nonce());
        ITraceRegistry.BatchRecord memory record = _registry.batch(_batchId);
        assertEq(record.custodian, _carrier);
        assertEq(record.pendingReceiver, address(0));

        _expectEventRevert(
            _eventRequest(_processorKey, _processor, _batchId, _nonce()),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                _processor,
                ITraceRegistry.BizStep.Packing
            )
        );
        // The carrier may record what a carrier records; the cooperative keeps its say.
        _recordStep(_carrierKey, _carrier, _batchId, ITraceRegistry.BizStep.Cooling, address(0), _nonce());
        _recordEvent(_cooperativeKey, _cooperative, _batchId, _nonce());
    }

    function test_recordEvents_aNewShippingReplacesTheReceiverNamedBefore() public {
        _recordStep(_processorKey, _processor, _batchId, ITraceRegistry.BizStep.Shipping, _carrier, _nonce());
        _recordStep(_processorKey, _processor, _batchId, ITraceRegistry.BizStep.Shipping, _retailer, _nonce());
        _expectEventRevert(
            _stepRequest(_carrierKey, _carrier, _batchId, ITraceRegistry.BizStep.Receiving, address(0), _nonce()),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                _carrier,
                ITraceRegistry.BizStep.Receiving
            )
        );
        _recordStep(_retailerKey, _retailer, _batchId, ITraceRegistry.BizStep.Receiving, address(0), _nonce());
        assertEq(_registry.batch(_batchId).custodian, _retailer);
    }

    function test_recordEvents_theCooperativeCanRedirectABatchItHandedOver() public {
        // The cooperative ships to the current custodian: a receiving by it settles the handover.
        _recordStep(_cooperativeKey, _cooperative, _batchId, ITraceRegistry.BizStep.Shipping, _processor, _nonce());
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.CustodyTransferred(_batchId, _processor, _processor);
        _recordStep(_processorKey, _processor, _batchId, ITraceRegistry.BizStep.Receiving, address(0), _nonce());
        assertEq(_registry.batch(_batchId).pendingReceiver, address(0));
    }

    function test_recordEvents_aFirstHandoverIsFromTheCooperativesOrigin() public {
        (address newKey, uint256 newPrivate) = makeAddrAndKey("cooperative, new key");
        vm.prank(_admin);
        _registry.rotateSigner(_cooperative, newKey);
        bytes32 batchId = _attestBy(newPrivate, newKey, _GTIN, "ROTATED-LOT");
        _recordStep(newPrivate, newKey, batchId, ITraceRegistry.BizStep.Shipping, _retailer, _nonce());
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.CustodyTransferred(batchId, _cooperative, _retailer);
        _recordStep(_retailerKey, _retailer, batchId, ITraceRegistry.BizStep.Receiving, address(0), _nonce());
        // The cooperative's key it attested the setup batch with is retired; its new key speaks.
        _recordEvent(newPrivate, newKey, _batchId, _nonce());
    }

    // ------------------------------------------------------------ inspection requests

    function test_requestInspections_letsTheRequestedInspectorInspectAndCertify() public {
        ITraceRegistry.BizStep inspecting = ITraceRegistry.BizStep.Inspecting;
        _expectEventRevert(
            _stepRequest(_inspectorKey, _inspector, _batchId, inspecting, address(0), _nonce()),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryActorWithoutCustody.selector,
                _batchId,
                _inspector,
                inspecting
            )
        );
        ITraceRegistry.InspectionRequest memory request = _inspectionRequest(
            _cooperativeKey,
            _cooperative,
            _batchId,
            _inspector
        );
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.InspectionRequested(
            _batchId,
            _inspector,
            _cooperative,
            request.nonce,
            request.deadline,
            request.signature
        );
        _submitInspectionRequest(request);
        assertTrue(_registry.inspectionRequested(_batchId, _inspector));
        _recordStep(_inspectorKey, _inspector, _batchId, inspecting, address(0), _nonce());
        _recordStep(_inspectorKey, _inspector, _batchId, ITraceRegistry.BizStep.Certifying, address(0), _nonce());
        // Asked to inspect, not to hold the batch.
        ITraceRegistry.BatchRecord memory record = _registry.batch(_batchId);
        assertEq(record.custodian, _processor);
    }

    function test_requestInspectionAsRegulator_asksOnTheRegulatorsAuthority() public {
        vm.expectEmit(address(_registry));
        emit ITraceRegistry.InspectionRequested(_batchId, _inspector, _regulator, 0, 0, "");
        vm.prank(_regulator);
        _registry.requestInspectionAsRegulator(_batchId, _inspector);
        _recordStep(_inspectorKey, _inspector, _batchId, ITraceRegistry.BizStep.Certifying, address(0), _nonce());

        vm.expectRevert(
            abi.encodeWithSelector(ITraceRegistry.RegistryInspectionAlreadyRequested.selector, _batchId, _inspector)
        );
        vm.prank(_regulator);
        _registry.requestInspectionAsRegulator(_batchId, _inspector);

        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, _relayer, _regulatorRole)
        );
        vm.prank(_relayer);
        _registry.requestInspectionAsRegulator(_batchId, _inspector);
    }

    function test_requestInspections_refusesWhatTheCooperativeCannotAsk() public {
        bytes32 unknownBatch = _registry.batchIdOf(_GTIN, "NEVER-ATTESTED");
        _expectInspectionRevert(
            _inspectionRequest(_cooperativeKey, _cooperative, unknownBatch, _inspector),
            abi.encodeWithSelector(ITraceRegistry.RegistryBatchUnknown.selector, unknownBatch)
        );
        _expectInspectionRevert(
            _inspectionRequest(_otherCooperativeKey, _otherCooperative, _batchId, _inspector),
            abi.encodeWithSelector(ITraceRegistry.RegistryNotBatchAttester.selector, _batchId, _otherCooperative)
        );
        // Custody does not make the custodian the batch's cooperative.
        _expectInspectionRevert(
            _inspectionRequest(_processorKey, _processor, _batchId, _inspector),
            abi.encodeWithSelector(ITraceRegistry.RegistryNotBatchAttester.selector, _batchId, _processor)
        );
    }

    function test_requestInspections_refusesAnInspectorThatIsNoneAForgedSignatureAndARepeat() public {
        address stranger = makeAddr("stranger");
        _expectInspectionRevert(
            _inspectionRequest(_cooperativeKey, _cooperative, _batchId, stranger),
            abi.encodeWithSelector(ITraceRegistry.RegistryOrganisationUnknown.selector, stranger)
        );
        _expectInspectionRevert(
            _inspectionRequest(_cooperativeKey, _cooperative, _batchId, _carrier),
            abi.encodeWithSelector(
                ITraceRegistry.RegistryOrganisationKindNotAllowed.selector,
                _carrier,
                ITraceRegistry.OrgKind.Logistics
            )
        );
        ITraceRegistry.InspectionRequest memory forged = _inspectionRequest(
            _otherCooperativeKey,
            _otherCooperative,
            _batchId,
            _inspector
        );
        forged.requester = _cooperative;
        _expectInspectionRevert(
            forged,
            abi.encodeWithSelector(
                ITraceRegistry.RegistrySignatureInvalid.selector,
                _cooperative,
                _inspectionDigest(forged)
            )
        );
        assertFalse(_registry.inspectionRequested(_batchId, _inspector));

        _submitInspectionRequest(_inspectionRequest(_cooperativeKey, _cooperative, _batchId, _inspector));
        _expectInspectionRevert(
            _inspectionRequest(_cooperativeKey, _cooperative, _batchId, _inspector),
            abi.encodeWithSelector(ITraceRegistry.RegistryInspectionAlreadyRequested.selector, _batchId, _inspector)
        );

        vm.prank(_regulator);
        _registry.suspendOrganisation(_cooperative, _CID);
        _expectInspectionRevert(
            _inspectionRequest(_cooperativeKey, _cooperative, _batchId, _inspector),
            abi.encodeWithSelector(ITraceRegistry.RegistryOrganisationSuspended.selector, _cooperative)
        );
    }

    function test_requestInspections_refusesAnEmptySubmissionAndAnyoneButARelayer() public {
        vm.expectRevert(ITraceRegistry.RegistryEmptySubmission.selector);
        vm.prank(_relayer);
        _registry.requestInspections(new ITraceRegistry.InspectionRequest[](0));

        ITraceRegistry.InspectionRequest[] memory requests = new ITraceRegistry.InspectionRequest[](1);
        requests[0] = _inspectionRequest(_cooperativeKey, _cooperative, _batchId, _inspector);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, _regulator, _relayerRole)
        );
        vm.prank(_regulator);
        _registry.requestInspections(requests);
        assertFalse(_registry.inspectionRequested(_batchId, _inspector));
    }

    function test_requestInspectionAsRegulator_refusesAnUnknownBatchAndANonInspector() public {
        bytes32 unknownBatch = _registry.batchIdOf(_GTIN, "NEVER-ATTESTED");
        vm.expectRevert(abi.encodeWithSelector(ITraceRegistry.RegistryBatchUnknown.selector, unknownBatch));
        vm.prank(_regulator);
        _registry.requestInspectionAsRegulator(unknownBatch, _inspector);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITraceRegistry.RegistryOrganisationKindNotAllowed.selector,
                _retailer,
                ITraceRegistry.OrgKind.Retailer
            )
        );
        vm.prank(_regulator);
        _registry.requestInspectionAsRegulator(_batchId, _retailer);
        assertFalse(_registry.inspectionRequested(_batchId, _retailer));
    }

    // ------------------------------------------------------------ properties

    /// @notice No event is recorded on a batch by an actor without custody: a fresh organisation
    /// of any kind records any step, having been handed the batch or asked to inspect it or
    /// neither, and the registry accepts exactly what the custody rules allow.
    /// hardhat-config: fuzz.runs = 5000
    function testFuzz_noEventIsRecordedByAnActorWithoutCustody(
        uint256 keySeed,
        uint8 kindSeed,
        uint8 stepSeed,
        bool handedOver,
        bool inspectionAsked,
        bool registered
    ) public {
        uint256 key = bound(keySeed, 1, 2 ** 160);
        address actor = vm.addr(key);
        vm.assume(_registry.originOf(actor) == address(0));
        ITraceRegistry.OrgKind kind = ITraceRegistry.OrgKind(bound(kindSeed, 1, 5));
        ITraceRegistry.BizStep step = ITraceRegistry.BizStep(bound(stepSeed, 0, 11));
        if (registered) {
            vm.prank(_admin);
            _registry.registerOrganisation(actor, kind, _REGION, _CID);
        }
        // A handover needs a registered receiver of a kind that receives.
        handedOver = handedOver && registered && _stepAllowed(ITraceRegistry.BizStep.Receiving, kind);
        if (handedOver) {
            _recordStep(_processorKey, _processor, _batchId, ITraceRegistry.BizStep.Shipping, actor, _nonce());
            _recordStep(key, actor, _batchId, ITraceRegistry.BizStep.Receiving, address(0), _nonce());
        }
        inspectionAsked = inspectionAsked && registered && kind == ITraceRegistry.OrgKind.Inspector;
        if (inspectionAsked) {
            vm.prank(_regulator);
            _registry.requestInspectionAsRegulator(_batchId, actor);
        }

        bool inspects = step == ITraceRegistry.BizStep.Inspecting || step == ITraceRegistry.BizStep.Certifying;
        bool entitled = registered && _stepAllowed(step, kind) && (handedOver || (inspectionAsked && inspects));
        address counterparty = step == ITraceRegistry.BizStep.Shipping ? _retailer : address(0);
        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
        requests[0] = _stepRequest(key, actor, _batchId, step, counterparty, _nonce());
        bytes32 headBefore = _registry.batch(_batchId).eventHead;

        (bool accepted, ) = _tryRecord(requests);

        assertEq(accepted, entitled, "accepted exactly when the actor has custody");
        assertEq(_registry.batch(_batchId).eventHead != headBefore, entitled, "head moved only when accepted");
        assertEq(_registry.nonceUsed(actor, requests[0].nonce), entitled, "nonce spent only when accepted");
    }

    /// @notice No batch is attested on a GTIN without entitlement: a fresh cooperative attests a
    /// random GTIN whose prefix or own binding goes to it or to another, with or without a grant
    /// from the owner; the registry accepts exactly when the cooperative owns or was granted it.
    /// hardhat-config: fuzz.runs = 5000
    function testFuzz_noBatchIsAttestedOnAGtinWithoutEntitlement(
        uint64 gtinSeed,
        uint8 digitsSeed,
        uint8 binding,
        bool toAttester,
        bool granted
    ) public {
        uint64 gtin = uint64(bound(gtinSeed, 1, 1e14 - 1));
        // Half the runs land under one of the fixture's 7-digit prefixes, which are the cooperatives'.
        if (binding >= 128) gtin = (binding % 2 == 0 ? _PREFIX : _OTHER_PREFIX) * 1e6 + (gtin % 1e6);
        (address attester, uint256 attesterKey) = _newOrganisation(
            "fresh cooperative",
            ITraceRegistry.OrgKind.Cooperative
        );
        address expectedOwner = _bindAtRandom(
            gtin,
            binding % 3,
            uint8(bound(digitsSeed, 6, 12)),
            toAttester ? attester : _carrier
        );
        assertEq(_registry.gtinOwner(gtin), expectedOwner, "owner by own binding, else the longest prefix");
        if (granted && expectedOwner == _carrier) {
            ITraceRegistry.GtinGrantRequest[] memory grants = new ITraceRegistry.GtinGrantRequest[](1);
            grants[0] = _grantRequest(_carrierKey, _carrier, gtin, attester, true);
            vm.prank(_relayer);
            _registry.changeGtinGrants(grants);
        }
        bool entitled = expectedOwner == attester || (granted && expectedOwner == _carrier);

        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = _attestationRequestBy(attesterKey, attester, gtin, "FUZZ-LOT", keccak256("fuzz"), 1);
        bytes32 batchId = _registry.batchIdOf(gtin, "FUZZ-LOT");

        bool accepted;
        vm.prank(_relayer);
        try _registry.attestBatches(requests) {
            accepted = true;
        } catch {
            accepted = false;
        }

        assertEq(accepted, entitled, "accepted exactly when entitled");
        assertEq(
            _registry.batch(batchId).status != ITraceRegistry.BatchStatus.None,
            entitled,
            "batch exists only when accepted"
        );
        assertEq(_registry.mayAttest(attester, gtin), entitled, "mayAttest agrees");
    }

    // ------------------------------------------------------------ helpers

    /// @dev `STEP_ACTORS` of server/src/domain/step-actors.ts, written out.
    function _stepTable() internal pure returns (bool[5][12] memory table) {
        // Rows: step; columns: Cooperative, Processor, Logistics, Retailer, Inspector.
        table = [
            [true, false, false, false, false], // planting
            [true, false, false, false, false], // input_application
            [true, false, false, false, false], // harvesting
            [true, true, true, false, false], // cooling
            [true, true, false, false, false], // transforming
            [true, true, false, false, false], // packing
            [true, true, true, false, false], // shipping
            [false, true, true, true, false], // receiving
            [false, false, false, false, true], // inspecting
            [false, false, false, false, true], // certifying
            [false, false, false, true, false], // retail_selling
            [false, false, false, false, false] // recalling: never an event
        ];
    }

    /// @dev Submits the events as the relayer; whether they were accepted, and the revert data.
    function _tryRecord(ITraceRegistry.EventRequest[] memory requests) internal returns (bool, bytes memory) {
        vm.prank(_relayer);
        try _registry.recordEvents(requests) {
            return (true, "");
        } catch (bytes memory error) {
            return (false, error);
        }
    }

    /// @dev For the entitlement property: leaves `gtin` unbound beyond the fixture (mode 0), binds
    /// it to `owner` (1), or binds its prefix of `digits` to `owner` (2), and returns the owner
    /// worked out apart from the registry's own lookup.
    function _bindAtRandom(uint64 gtin, uint256 mode, uint8 digits, address owner) internal returns (address) {
        uint64 prefix7 = (gtin % 1e13) / 1e6;
        address fixtureOwner = address(0);
        if (prefix7 == _PREFIX) fixtureOwner = _cooperative;
        if (prefix7 == _OTHER_PREFIX) fixtureOwner = _otherCooperative;
        if (mode == 1) {
            vm.prank(_admin);
            _registry.bindGtin(gtin, owner);
            return owner;
        }
        if (mode == 2) {
            // Refused when the prefix is bound, or lies inside another's; a wider one is allowed
            // but leaves the GTIN with the longer prefix's owner.
            bool bound_ = true;
            vm.prank(_admin);
            try _registry.bindCompanyPrefix((gtin % 1e13) / uint64(10) ** (13 - digits), digits, owner) {} catch {
                bound_ = false;
            }
            assertEq(bound_, fixtureOwner == address(0) || digits < 7, "bound exactly when no other prefix holds it");
            if (fixtureOwner == address(0)) return owner;
        }
        return fixtureOwner;
    }

    function _nonce() internal returns (uint256) {
        return ++_nextNonce;
    }

    function _newOrganisation(
        string memory name,
        ITraceRegistry.OrgKind kind
    ) internal returns (address signer, uint256 key) {
        (signer, key) = makeAddrAndKey(name);
        vm.prank(_admin);
        _registry.registerOrganisation(signer, kind, _REGION, _CID);
    }

    /// @dev Whether `kind` may record `step`, from the server's STEP_ACTORS table as written here.
    function _stepAllowed(ITraceRegistry.BizStep step, ITraceRegistry.OrgKind kind) internal pure returns (bool) {
        if (step <= ITraceRegistry.BizStep.Harvesting) return kind == ITraceRegistry.OrgKind.Cooperative;
        if (step == ITraceRegistry.BizStep.Cooling || step == ITraceRegistry.BizStep.Shipping) {
            return
                kind == ITraceRegistry.OrgKind.Cooperative ||
                kind == ITraceRegistry.OrgKind.Processor ||
                kind == ITraceRegistry.OrgKind.Logistics;
        }
        if (step == ITraceRegistry.BizStep.Transforming || step == ITraceRegistry.BizStep.Packing) {
            return kind == ITraceRegistry.OrgKind.Cooperative || kind == ITraceRegistry.OrgKind.Processor;
        }
        if (step == ITraceRegistry.BizStep.Receiving) {
            return
                kind == ITraceRegistry.OrgKind.Processor ||
                kind == ITraceRegistry.OrgKind.Logistics ||
                kind == ITraceRegistry.OrgKind.Retailer;
        }
        if (step == ITraceRegistry.BizStep.Inspecting || step == ITraceRegistry.BizStep.Certifying) {
            return kind == ITraceRegistry.OrgKind.Inspector;
        }
        if (step == ITraceRegistry.BizStep.RetailSelling) return kind == ITraceRegistry.OrgKind.Retailer;
        return false;
    }

    function _attestBy(uint256 key, address attester, uint64 gtin, string memory lot) internal returns (bytes32) {
        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = _attestationRequestBy(key, attester, gtin, lot, keccak256(bytes(lot)), _nonce());
        vm.prank(_relayer);
        return _registry.attestBatches(requests)[0];
    }

    function _grantDigest(ITraceRegistry.GtinGrantRequest memory r) internal view returns (bytes32) {
        return
            _typedDigest(
                keccak256(
                    abi.encode(
                        _registry.GTIN_GRANT_TYPEHASH(),
                        r.owner,
                        r.gtin,
                        r.grantee,
                        r.granted,
                        r.nonce,
                        r.deadline
                    )
                )
            );
    }

    function _grantRequest(
        uint256 key,
        address owner,
        uint64 gtin,
        address grantee,
        bool granted
    ) internal returns (ITraceRegistry.GtinGrantRequest memory r) {
        r = ITraceRegistry.GtinGrantRequest({
            owner: owner,
            gtin: gtin,
            grantee: grantee,
            granted: granted,
            nonce: _nonce(),
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        r.signature = _sign(key, _grantDigest(r));
    }

    function _submitGrant(ITraceRegistry.GtinGrantRequest memory request) internal {
        ITraceRegistry.GtinGrantRequest[] memory requests = new ITraceRegistry.GtinGrantRequest[](1);
        requests[0] = request;
        vm.prank(_relayer);
        _registry.changeGtinGrants(requests);
    }

    function _inspectionDigest(ITraceRegistry.InspectionRequest memory r) internal view returns (bytes32) {
        return
            _typedDigest(
                keccak256(
                    abi.encode(
                        _registry.INSPECTION_REQUEST_TYPEHASH(),
                        r.requester,
                        r.batchId,
                        r.inspector,
                        r.nonce,
                        r.deadline
                    )
                )
            );
    }

    function _inspectionRequest(
        uint256 key,
        address requester,
        bytes32 batchId,
        address inspector
    ) internal returns (ITraceRegistry.InspectionRequest memory r) {
        r = ITraceRegistry.InspectionRequest({
            requester: requester,
            batchId: batchId,
            inspector: inspector,
            nonce: _nonce(),
            deadline: uint64(block.timestamp + 1 hours),
            signature: ""
        });
        r.signature = _sign(key, _inspectionDigest(r));
    }

    function _submitInspectionRequest(ITraceRegistry.InspectionRequest memory request) internal {
        ITraceRegistry.InspectionRequest[] memory requests = new ITraceRegistry.InspectionRequest[](1);
        requests[0] = request;
        vm.prank(_relayer);
        _registry.requestInspections(requests);
    }

    /// @dev Expects the admin's next call to revert with `error`.
    function _expectAdminRevert(bytes memory error) internal {
        vm.expectRevert(error);
        vm.prank(_admin);
    }

    function _expectAttestRevert(ITraceRegistry.BatchAttestationRequest memory request, bytes memory error) internal {
        ITraceRegistry.BatchAttestationRequest[] memory requests = new ITraceRegistry.BatchAttestationRequest[](1);
        requests[0] = request;
        vm.expectRevert(error);
        vm.prank(_relayer);
        _registry.attestBatches(requests);
        assertFalse(_registry.nonceUsed(request.attester, request.nonce), "attester's nonce spent");
    }

    /// @dev Expects the event refused with `error`, leaving the batch and the actor's nonce as they were.
    function _expectEventRevert(ITraceRegistry.EventRequest memory request, bytes memory error) internal {
        ITraceRegistry.BatchRecord memory before = _registry.batch(request.batchId);
        ITraceRegistry.EventRequest[] memory requests = new ITraceRegistry.EventRequest[](1);
        requests[0] = request;
        vm.expectRevert(error);
        vm.prank(_relayer);
        _registry.recordEvents(requests);
        assertEq(
            keccak256(abi.encode(_registry.batch(request.batchId))),
            keccak256(abi.encode(before)),
            "batch changed"
        );
        assertFalse(_registry.nonceUsed(request.actor, request.nonce), "actor's nonce spent");
    }

    function _expectGrantRevert(ITraceRegistry.GtinGrantRequest memory request, bytes memory error) internal {
        ITraceRegistry.GtinGrantRequest[] memory requests = new ITraceRegistry.GtinGrantRequest[](1);
        requests[0] = request;
        vm.expectRevert(error);
        vm.prank(_relayer);
        _registry.changeGtinGrants(requests);
        assertFalse(_registry.nonceUsed(request.owner, request.nonce), "owner's nonce spent");
    }

    function _expectInspectionRevert(ITraceRegistry.InspectionRequest memory request, bytes memory error) internal {
        bool requestedBefore = _registry.inspectionRequested(request.batchId, request.inspector);
        ITraceRegistry.InspectionRequest[] memory requests = new ITraceRegistry.InspectionRequest[](1);
        requests[0] = request;
        vm.expectRevert(error);
        vm.prank(_relayer);
        _registry.requestInspections(requests);
        assertEq(_registry.inspectionRequested(request.batchId, request.inspector), requestedBefore);
        assertFalse(_registry.nonceUsed(request.requester, request.nonce), "requester's nonce spent");
    }
}
