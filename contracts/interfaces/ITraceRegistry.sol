// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ITraceRegistry
/// @notice The public face of the traceability ledger: who may attest, batch commitments,
/// per-batch event hash chains and recalls. The chain holds commitments only; metadata,
/// media and event payloads live on IPFS and are bound here by their CIDs, which sit
/// inside what each organisation signs.
/// @dev Every write that carries an organisation's EIP-712 signature is submitted by a
/// relayer (the platform pays gas); the relayer cannot forge, alter or replay any of it.
/// Errors are named `Registry<Subject><Problem>` and carry the refused values (see "errors").
interface ITraceRegistry {
    /// @notice The kind of an organisation. Only cooperatives attest batches.
    enum OrgKind {
        None,
        Cooperative,
        Processor,
        Logistics,
        Retailer,
        Inspector
    }

    /// @notice Whether an organisation may currently sign.
    enum OrgStatus {
        None,
        Active,
        Suspended
    }

    /// @notice Lifecycle of a batch on the ledger.
    enum BatchStatus {
        None,
        Active,
        Recalled
    }

    /// @notice CBV business steps of critical tracking events (DESIGN.md, "Event").
    /// @dev Appending only: the numeric values are part of the signed data.
    enum BizStep {
        Planting,
        InputApplication,
        Harvesting,
        Cooling,
        Transforming,
        Packing,
        Shipping,
        Receiving,
        Inspecting,
        Certifying,
        RetailSelling,
        Recalling
    }

    /// @notice An organisation as the ledger knows it.
    /// @dev Packed in one slot with `regionCode` and the enums; `metadataCid` in its own.
    struct Organisation {
        address signer;
        OrgKind kind;
        OrgStatus status;
        uint32 regionCode;
        bytes metadataCid;
    }

    /// @notice The on-chain commitment of one harvest batch (traceability lot).
    /// @dev Three slots: `itemsRoot`; the attester, item count and status packed in one
    /// (read by every event, written only on recall); and `eventHead`, written per event.
    /// No event counter is stored: it would cost every event another write, and the
    /// head already fixes the number and order of events.
    struct BatchRecord {
        bytes32 itemsRoot;
        address attester;
        uint32 itemCount;
        BatchStatus status;
        bytes32 eventHead;
    }

    /// @notice A cooperative's signed attestation of one batch, as a relayer submits it.
    /// @param attester the cooperative's registered signer (an EOA or an ERC-1271 wallet)
    /// @param gtin GTIN-14 of the product, as an integer (check digit included)
    /// @param lot the GS1 AI (10) lot, 1 to 20 characters
    /// @param itemsRoot root of the StandardMerkleTree (leaf type `string`) of item serials
    /// @param itemCount number of items (leaves) under `itemsRoot`
    /// @param quantityMilli quantity harvested, in thousandths of `unit`
    /// @param unit UN/CEFACT Rec. 20 unit code (e.g. KGM, H87)
    /// @param harvestedAt harvest time, seconds since the Unix epoch
    /// @param metadataCid binary CID of the batch metadata document on IPFS
    /// @param nonce an unordered nonce of the attester; each is usable once
    /// @param deadline last second at which the signature is accepted
    /// @param signature EIP-712 signature of the `BatchAttestation` typed data
    struct BatchAttestationRequest {
        address attester;
        uint64 gtin;
        string lot;
        bytes32 itemsRoot;
        uint32 itemCount;
        uint64 quantityMilli;
        string unit;
        uint64 harvestedAt;
        bytes metadataCid;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /// @notice An organisation's signed critical tracking event, as a relayer submits it.
    /// @param actor the organisation's registered signer
    /// @param batchId the batch the event belongs to
    /// @param bizStep the CBV business step
    /// @param occurredAt when it happened, seconds since the Unix epoch
    /// @param payloadCid binary CID of the event document (EPCIS-shaped) on IPFS
    struct EventRequest {
        address actor;
        bytes32 batchId;
        BizStep bizStep;
        uint64 occurredAt;
        bytes payloadCid;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /// @notice A cooperative's signed recall of its own batch.
    struct RecallRequest {
        address attester;
        bytes32 batchId;
        bytes reasonCid;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    // ---------------------------------------------------------------- events

    /// @notice Emitted when the admin registered an organisation.
    event OrganisationRegistered(address indexed signer, OrgKind kind, uint32 regionCode, bytes metadataCid);

    /// @notice Emitted when the admin replaced an organisation's signing key.
    event SignerRotated(address indexed previousSigner, address indexed newSigner);

    /// @notice Emitted when a regulator suspended an organisation.
    event OrganisationSuspended(address indexed signer, address indexed regulator, bytes reasonCid);

    /// @notice Emitted when a regulator reinstated a suspended organisation.
    event OrganisationReinstated(address indexed signer, address indexed regulator, bytes reasonCid);

    /// @notice Emitted when a batch attestation was accepted. Carries every signed field,
    /// so the attestation and its signature can be re-verified from logs alone.
    event BatchAttested(
        bytes32 indexed batchId,
        address indexed attester,
        uint64 gtin,
        string lot,
        bytes32 itemsRoot,
        uint32 itemCount,
        uint64 quantityMilli,
        string unit,
        uint64 harvestedAt,
        bytes metadataCid,
        uint256 nonce,
        uint64 deadline,
        bytes signature
    );

    /// @notice Emitted when an event was appended to a batch's hash chain.
    /// @dev `newHead == keccak256(abi.encode(previousHead, eventDigest))` where
    /// `eventDigest` is the EIP-712 digest the actor signed; the first event chains from
    /// zero. Every signed field is here, so the chain is recomputable from logs alone.
    event EventRecorded(
        bytes32 indexed batchId,
        address indexed actor,
        BizStep bizStep,
        uint64 occurredAt,
        bytes payloadCid,
        uint256 nonce,
        uint64 deadline,
        bytes signature,
        bytes32 newHead
    );

    /// @notice Emitted when a batch was recalled, by its cooperative or by a regulator.
    /// @param recalledBy the cooperative's signer or the regulator's account
    /// @param signature the cooperative's signature; empty when a regulator recalled
    event BatchRecalled(bytes32 indexed batchId, address indexed recalledBy, bytes reasonCid, bytes signature);

    // ---------------------------------------------------------------- errors
    // Named `Registry<Subject><Problem>`, the component first as OpenZeppelin names its
    // errors (`AccessControlUnauthorizedAccount`), so a decoded revert says which contract
    // refused; each carries the values that were refused.

    /// @notice The admin given to the constructor is the zero address.
    error RegistryAdminZero();
    /// @notice An organisation's signer (new or rotated to) is the zero address.
    error RegistrySignerZero();
    /// @notice An organisation's kind is `None`.
    error RegistryKindNone();
    /// @notice A region code is not a GB/T 2260 six-digit code.
    /// @param regionCode the code given
    /// @param min the lowest code allowed
    /// @param max the highest code allowed
    error RegistryRegionCodeOutOfRange(uint32 regionCode, uint32 min, uint32 max);
    /// @notice An organisation's profile or a batch's metadata document has no CID.
    error RegistryMetadataCidEmpty();
    /// @notice A suspension, reinstatement or recall has no reason CID.
    error RegistryReasonCidEmpty();
    /// @notice An event has no payload CID.
    error RegistryPayloadCidEmpty();
    /// @notice A GTIN is zero or has more than 14 digits.
    /// @param gtin the GTIN given
    /// @param limit the first value too large (10^14)
    error RegistryGtinOutOfRange(uint64 gtin, uint64 limit);
    /// @notice A lot is empty.
    error RegistryLotEmpty();
    /// @notice A lot is longer than GS1 AI (10) allows.
    /// @param length the lot's length in bytes
    /// @param max the longest lot allowed
    error RegistryLotTooLong(uint256 length, uint256 max);
    /// @notice A batch's items root is zero.
    error RegistryItemsRootZero();
    /// @notice A batch has no items.
    error RegistryItemCountZero();
    /// @notice A batch's harvested quantity is zero.
    error RegistryQuantityMilliZero();
    /// @notice A unit code is empty.
    error RegistryUnitEmpty();
    /// @notice A unit code is longer than allowed.
    /// @param length the unit code's length in bytes
    /// @param max the longest unit code allowed
    error RegistryUnitTooLong(uint256 length, uint256 max);
    /// @notice A batch's harvest time is zero.
    error RegistryHarvestedAtZero();
    /// @notice A batch's harvest time is later than the block that records it.
    /// @param harvestedAt the harvest time given
    /// @param nowSeconds the block's timestamp
    error RegistryHarvestedAtInFuture(uint64 harvestedAt, uint256 nowSeconds);
    /// @notice An event's time is zero.
    error RegistryOccurredAtZero();
    /// @notice The address is, or was before a rotation, an organisation's signer.
    /// @param signer the address
    error RegistryOrganisationAlreadyRegistered(address signer);
    /// @notice No organisation is registered under this signer.
    /// @param signer the address
    error RegistryOrganisationUnknown(address signer);
    /// @notice The organisation is suspended, so its signatures are refused.
    /// @param signer the organisation's signer
    error RegistryOrganisationSuspended(address signer);
    /// @notice The organisation is not suspended, so it cannot be reinstated.
    /// @param signer the organisation's signer
    error RegistryOrganisationNotSuspended(address signer);
    /// @notice The organisation's kind may not do this (e.g. a retailer attesting a batch).
    /// @param signer the organisation's signer
    /// @param kind the organisation's kind
    error RegistryOrganisationKindNotAllowed(address signer, OrgKind kind);
    /// @notice The signature does not recover to (or is not accepted by) the signer.
    /// @param signer the signer the request names
    /// @param digest the EIP-712 digest the signature was checked against
    error RegistrySignatureInvalid(address signer, bytes32 digest);
    /// @notice The signature's deadline is in the past.
    /// @param deadline the last second the signature was valid
    /// @param nowSeconds the block's timestamp
    error RegistrySignatureExpired(uint64 deadline, uint256 nowSeconds);
    /// @notice The signer already used this nonce.
    /// @param signer the signer
    /// @param nonce the nonce
    error RegistryNonceAlreadyUsed(address signer, uint256 nonce);
    /// @notice A batch with this GTIN and lot was already attested.
    /// @param batchId the batch's id
    error RegistryBatchAlreadyRegistered(bytes32 batchId);
    /// @notice No batch is registered under this id.
    /// @param batchId the id given
    error RegistryBatchUnknown(bytes32 batchId);
    /// @notice The batch was already recalled.
    /// @param batchId the batch's id
    error RegistryBatchAlreadyRecalled(bytes32 batchId);
    /// @notice Only the cooperative that attested a batch may recall it by signature.
    /// @param batchId the batch's id
    /// @param signer the signer of the recall
    error RegistryNotBatchAttester(bytes32 batchId, address signer);
    /// @notice A submission carried no entries.
    error RegistryEmptySubmission();

    // ---------------------------------------------------------------- admin

    /// @notice Registers an organisation and its signing key.
    /// @dev Admin only. `regionCode` is a GB/T 2260 six-digit code (100000..999999).
    /// @param signer the organisation's signing address (EOA or ERC-1271 wallet)
    /// @param kind what the organisation is; decides what it may sign
    /// @param regionCode GB/T 2260 administrative division code
    /// @param metadataCid binary CID of the organisation's public profile on IPFS
    function registerOrganisation(address signer, OrgKind kind, uint32 regionCode, bytes calldata metadataCid) external;

    /// @notice Replaces an organisation's signing key, keeping its record and history.
    /// @dev Admin only. Unused nonces of the old key do not carry over; signatures made
    /// by the old key and not yet submitted are refused from now on. Batches keep the key
    /// that attested them, and the new key may recall them. The old key is retired for
    /// good: it can never be registered or rotated to again, so no one else inherits its
    /// batches. `newSigner` must never have been registered.
    function rotateSigner(address currentSigner, address newSigner) external;

    // ---------------------------------------------------------------- regulator

    /// @notice Suspends an organisation: its signatures are refused until reinstated.
    /// @dev Regulator only. Already anchored batches and events stay as they are.
    function suspendOrganisation(address signer, bytes calldata reasonCid) external;

    /// @notice Reinstates a suspended organisation.
    /// @dev Regulator only.
    function reinstateOrganisation(address signer, bytes calldata reasonCid) external;

    /// @notice Recalls a batch on a regulator's own authority.
    /// @dev Regulator only.
    function recallBatchAsRegulator(bytes32 batchId, bytes calldata reasonCid) external;

    // ---------------------------------------------------------------- relayer

    /// @notice Records many signed batch attestations in one transaction.
    /// @dev Relayer only. All-or-nothing: any invalid entry reverts the whole call with
    /// that entry's error, so a relayer simulates first and drops what fails.
    /// @return batchIds the id of each batch, in order
    function attestBatches(BatchAttestationRequest[] calldata requests) external returns (bytes32[] memory batchIds);

    /// @notice Appends many signed events, each to its batch's hash chain, in order.
    /// @dev Relayer only. All-or-nothing, as {attestBatches}. Events after a recall are
    /// accepted (a recall is followed by recalling and disposal events); audits judge them.
    function recordEvents(EventRequest[] calldata requests) external;

    /// @notice Recalls a batch with its cooperative's signature.
    /// @dev Relayer only. The signer must be the batch's attester, or the key its
    /// organisation was rotated to since, and still active.
    function recallBatch(RecallRequest calldata request) external;

    // ---------------------------------------------------------------- views

    /// @notice The id of a batch: `keccak256(abi.encode(gtin, lot))`.
    function batchIdOf(uint64 gtin, string calldata lot) external pure returns (bytes32);

    /// @notice The organisation registered under `signer` (zeroed when unknown).
    function organisation(address signer) external view returns (Organisation memory);

    /// @notice The ledger's record of a batch (zeroed when unknown).
    function batch(bytes32 batchId) external view returns (BatchRecord memory);

    /// @notice Whether `signer` has used `nonce`.
    function nonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice Whether the item with `serial` belongs to the batch, given its Merkle proof.
    /// @dev The leaf is built as `@openzeppelin/merkle-tree`'s StandardMerkleTree builds a
    /// `["string"]` leaf: `keccak256(bytes.concat(keccak256(abi.encode(serial))))`.
    function verifyItem(bytes32 batchId, string calldata serial, bytes32[] calldata proof) external view returns (bool);

    /// @notice Whether `leaf` belongs to the batch, given its Merkle proof.
    function verifyItemLeaf(bytes32 batchId, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);

    /// @notice The EIP-712 domain separator, so clients can check what they sign.
    function domainSeparator() external view returns (bytes32);
}
