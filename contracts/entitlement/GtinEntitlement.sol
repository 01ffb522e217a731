// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {TypedSignatures} from "../signatures/TypedSignatures.sol";

/// @title GtinEntitlement
/// @notice Who may attest batches of a GTIN: the organisation its GS1 company prefix (or the
/// GTIN itself) is bound to by the admin, and the organisations that owner granted it to.
/// @dev Kept apart so the registry reads as batches and events. Owners and grantees are
/// organisation origins ({originOf}), so a key rotation never loses a binding or a grant.
/// Grants are kept per owner: when a GTIN passes to another owner, the old owner's grants
/// stop counting instead of carrying over to an owner who never made them.
abstract contract GtinEntitlement is TypedSignatures, AccessControl {
    /// @dev GTIN-14 has at most 14 digits.
    uint64 internal constant _GTIN_LIMIT = 1e14;
    /// @dev The 13 digits after a GTIN-14's indicator digit hold the company prefix.
    uint64 private constant _AFTER_INDICATOR = 1e13;
    /// @dev GS1 company prefixes have 6 to 12 digits.
    uint8 private constant _PREFIX_MIN_DIGITS = 6;
    uint8 private constant _PREFIX_MAX_DIGITS = 12;
    /// @dev How a GTIN bound on its own is named in errors: a "prefix" of all 14 digits.
    uint8 private constant _GTIN_DIGITS = 14;

    /// @dev Keyed by `digits << 64 | prefix`, so "0614141" (7 digits) and "614141" (6) differ.
    mapping(uint256 prefixKey => address owner) private _prefixOwners;
    mapping(uint64 gtin => address owner) private _gtinOwners;
    mapping(uint64 gtin => mapping(address owner => mapping(address grantee => bool granted))) private _grants;

    // ---------------------------------------------------------------- admin

    /// @inheritdoc ITraceRegistry
    function bindCompanyPrefix(uint64 prefix, uint8 digits, address owner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireValidPrefix(prefix, digits);
        _existingOrganisation(owner);
        address origin = _originOf(owner);
        address bound = _prefixOwners[_prefixKey(prefix, digits)];
        if (bound != address(0)) revert RegistryCompanyPrefixAlreadyBound(prefix, digits, bound);
        // A prefix inside another organisation's shorter prefix would take its GTINs from it.
        for (uint8 d = _PREFIX_MIN_DIGITS; d < digits; ++d) {
            uint64 outer = prefix / uint64(10) ** (digits - d);
            address outerOwner = _prefixOwners[_prefixKey(outer, d)];
            if (outerOwner != address(0) && outerOwner != origin) {
                revert RegistryCompanyPrefixAlreadyBound(outer, d, outerOwner);
            }
        }
        _prefixOwners[_prefixKey(prefix, digits)] = origin;
        emit CompanyPrefixBound(prefix, digits, origin);
    }

    /// @inheritdoc ITraceRegistry
    function releaseCompanyPrefix(uint64 prefix, uint8 digits) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireValidPrefix(prefix, digits);
        uint256 key = _prefixKey(prefix, digits);
        address owner = _prefixOwners[key];
        if (owner == address(0)) revert RegistryCompanyPrefixNotBound(prefix, digits);
        delete _prefixOwners[key];
        emit CompanyPrefixReleased(prefix, digits, owner);
    }

    /// @inheritdoc ITraceRegistry
    function bindGtin(uint64 gtin, address owner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireGtinInRange(gtin);
        _existingOrganisation(owner);
        address bound = _gtinOwners[gtin];
        if (bound != address(0)) revert RegistryCompanyPrefixAlreadyBound(gtin, _GTIN_DIGITS, bound);
        address origin = _originOf(owner);
        _gtinOwners[gtin] = origin;
        emit GtinBound(gtin, origin);
    }

    /// @inheritdoc ITraceRegistry
    function releaseGtin(uint64 gtin) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address owner = _gtinOwners[gtin];
        if (owner == address(0)) revert RegistryCompanyPrefixNotBound(gtin, _GTIN_DIGITS);
        delete _gtinOwners[gtin];
        emit GtinReleased(gtin, owner);
    }

    // ---------------------------------------------------------------- relayer

    /// @inheritdoc ITraceRegistry
    function changeGtinGrants(GtinGrantRequest[] calldata requests) external onlyRole(_relayerRole()) {
        uint256 count = requests.length;
        if (count == 0) revert RegistryEmptySubmission();
        for (uint256 i = 0; i < count; ++i) {
            _changeGtinGrant(requests[i]);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITraceRegistry
    function gtinOwner(uint64 gtin) public view returns (address owner) {
        owner = _gtinOwners[gtin];
        if (owner != address(0)) return owner;
        // The longest bound prefix wins: a licensee's 9-digit prefix inside the operator's 7.
        uint64 afterIndicator = gtin % _AFTER_INDICATOR;
        for (uint8 d = _PREFIX_MAX_DIGITS; d >= _PREFIX_MIN_DIGITS; --d) {
            owner = _prefixOwners[_prefixKey(afterIndicator / uint64(10) ** (13 - d), d)];
            if (owner != address(0)) return owner;
        }
    }

    /// @inheritdoc ITraceRegistry
    function companyPrefixOwner(uint64 prefix, uint8 digits) external view returns (address) {
        return _prefixOwners[_prefixKey(prefix, digits)];
    }

    /// @inheritdoc ITraceRegistry
    function gtinGranted(uint64 gtin, address signer) external view returns (bool) {
        // An address no organisation ever held is nobody's origin, so it was granted nothing.
        return _grants[gtin][gtinOwner(gtin)][_originOf(signer)];
    }

    /// @inheritdoc ITraceRegistry
    function mayAttest(address signer, uint64 gtin) external view returns (bool) {
        Organisation storage org = _organisation(signer);
        return
            org.status == OrgStatus.Active && org.kind == OrgKind.Cooperative && _isEntitled(_originOf(signer), gtin);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Refuses an attester whose organisation neither owns the GTIN nor was granted it.
    function _requireEntitled(address attester, uint64 gtin) internal view {
        if (!_isEntitled(_originOf(attester), gtin)) revert RegistryGtinNotEntitled(gtin, attester);
    }

    function _requireGtinInRange(uint64 gtin) internal pure {
        if (gtin == 0 || gtin >= _GTIN_LIMIT) revert RegistryGtinOutOfRange(gtin, _GTIN_LIMIT);
    }

    /// @dev An unbound GTIN has the zero owner, whom no origin equals and who granted nothing.
    function _isEntitled(address origin, uint64 gtin) private view returns (bool) {
        address owner = gtinOwner(gtin);
        return owner != address(0) && (origin == owner || _grants[gtin][owner][origin]);
    }

    function _changeGtinGrant(GtinGrantRequest calldata r) private {
        _requireActive(r.owner);
        address ownerOrigin = _originOf(r.owner);
        if (gtinOwner(r.gtin) != ownerOrigin) revert RegistryNotGtinOwner(r.gtin, r.owner);
        _existingOrganisation(r.grantee);
        address granteeOrigin = _originOf(r.grantee);
        _consumeSignature(r.owner, _gtinGrantDigest(r), r.nonce, r.deadline, r.signature);
        _grants[r.gtin][ownerOrigin][granteeOrigin] = r.granted;
        emit GtinGrantChanged(r.gtin, ownerOrigin, granteeOrigin, r.granted, r.nonce, r.deadline, r.signature);
    }

    function _requireValidPrefix(uint64 prefix, uint8 digits) private pure {
        if (digits < _PREFIX_MIN_DIGITS || digits > _PREFIX_MAX_DIGITS || prefix >= uint64(10) ** digits) {
            revert RegistryCompanyPrefixInvalid(prefix, digits);
        }
    }

    function _prefixKey(uint64 prefix, uint8 digits) private pure returns (uint256) {
        return (uint256(digits) << 64) | prefix;
    }

    // ---------------------------------------------------------------- provided by the registry

    /// @dev The role allowed to submit signed work (the registry's RELAYER_ROLE).
    function _relayerRole() internal pure virtual returns (bytes32);

    /// @dev The organisation record under `signer`, zeroed when none.
    function _organisation(address signer) internal view virtual returns (Organisation storage);

    /// @dev The record under `signer`; refuses an unknown signer.
    function _existingOrganisation(address signer) internal view virtual returns (Organisation storage);

    /// @dev The record under `signer`; refuses an unknown or suspended signer.
    function _requireActive(address signer) internal view virtual returns (Organisation storage);

    /// @dev The origin of a signer that is, or was, an organisation's key (any other address
    /// comes back as itself, which is nobody's origin).
    function _originOf(address signer) internal view virtual returns (address);
}
