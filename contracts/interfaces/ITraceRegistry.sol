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
    /// `custodian` and `pendingReceiver` are organisations named by their origin (see
    /// {originOf}); a zero `custodian` means the batch is still with its cooperative.
    struct BatchRecord {
        bytes32 itemsRoot;
        address attester;
        uint32 itemCount;
        BatchStatus status;
        bytes32 eventHead;
        address custodian;
        address pendingReceiver;
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
    /// @param counterparty for `Shipping`, the signer of the organisation the batch is handed
    /// to (it takes custody when it records `Receiving`); zero for every other step
    struct EventRequest {
        address actor;
        bytes32 batchId;
        BizStep bizStep;
        uint64 occurredAt;
        bytes payloadCid;
        address counterparty;
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

    /// @notice A GTIN owner's signed grant (or withdrawal) of one GTIN to another
    /// organisation, e.g. a contract packer, as a relayer submits it.
    /// @param owner the signer of the organisation entitled to the GTIN
    /// @param gtin GTIN-14 as an integer
    /// @param grantee the signer of the organisation granted (or no longer granted) the GTIN
    /// @param granted true to grant, false to withdraw
    struct GtinGrantRequest {
        address owner;
        uint64 gtin;
        address grantee;
        bool granted;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /// @notice A cooperative's signed request that an inspector inspect or certify its batch.
    /// @param requester the signer of the batch's cooperative
    /// @param inspector the signer of an inspector organisation
    struct InspectionRequest {
        address requester;
        bytes32 batchId;
        address inspector;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /// @notice What a container's custodian (or its named receiver) did with it after packing.
    /// @dev Appending only: the numeric values are part of the signed data.
    enum ContainerAction {
        Unpacking,
        Shipping,
        Receiving
    }

    /// @notice What the ledger commits for a container (a case or pallet named by its SSCC):
    /// the registry stores only `keccak256(abi.encode(state))`, one slot per container, and a
    /// writer passes the state itself (rebuilt from the container's logs) with each request.
    /// @param childrenRoot root of the StandardMerkleTree of what is packed: leaves
    /// `(bytes32 batchId, string serial)` for items, `(bytes32 containerKey)` for cases in a
    /// pallet; zero when nothing is packed (never packed, or unpacked)
    /// @param custodian origin of the organisation holding the container; zero when empty
    /// @param pendingReceiver origin of the receiver its last shipping named; zero when none
    /// @param link the EIP-712 digest of the request that produced this state, so no state
    /// repeats and a signature (which names the state it applies to) is usable once
    struct ContainerState {
        bytes32 childrenRoot;
        address custodian;
        address pendingReceiver;
        bytes32 link;
    }

    /// @notice An organisation's signed packing of items (and/or containers) into a container
    /// (EPCIS AggregationEvent, action ADD), as a relayer submits it.
    /// @param actor the packer's registered signer; it must hold custody of every batch listed
    /// and of every child container
    /// @param containerKey `keccak256(abi.encode(uint64 sscc))`, the SSCC's 18 digits as an
    /// integer (its check digit checked by the platform, not here)
    /// @param childrenRoot the root of what is packed (see {ContainerState})
    /// @param childCount how many leaves are under `childrenRoot`
    /// @param batchIds the distinct batches whose items are packed
    /// @param childContainers the containers packed into this one (cases into a pallet)
    /// @param counterparty zero, or the signer of the receiver the packer ships it to at once (a
    /// despatch: one signed request, as if shipped right after packing)
    /// @param previous the container's stored state hash this packing applies to (zero when
    /// never packed)
    /// @param current the state `previous` is the hash of (all zero when never packed); not signed
    /// @param childStates the current state of each child container, in order; not signed
    struct ContainerPackRequest {
        address actor;
        bytes32 containerKey;
        bytes32 childrenRoot;
        uint32 childCount;
        bytes32[] batchIds;
        bytes32[] childContainers;
        uint64 occurredAt;
        bytes payloadCid;
        address counterparty;
        bytes32 previous;
        uint64 deadline;
        bytes signature;
        ContainerState current;
        ContainerState[] childStates;
    }

    /// @notice An organisation's signed unpacking, shipping or receiving of a container, as a
    /// relayer submits it.
    /// @param counterparty for `Shipping`, the signer of the receiver; zero otherwise
    /// @param previous the container's stored state hash this applies to
    /// @param current the state `previous` is the hash of; not signed
    struct ContainerEventRequest {
        address actor;
        bytes32 containerKey;
        ContainerAction action;
        uint64 occurredAt;
        bytes payloadCid;
        address counterparty;
        bytes32 previous;
        uint64 deadline;
        bytes signature;
        ContainerState current;
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
        address counterparty,
        uint256 nonce,
        uint64 deadline,
        bytes signature,
        bytes32 newHead
    );

    /// @notice Emitted when the receiver named by a shipping event recorded its receiving
    /// event, so the batch passed into its custody. Both are organisation origins.
    event CustodyTransferred(bytes32 indexed batchId, address indexed from, address indexed to);

    /// @notice Emitted when the admin bound a GS1 company prefix to an organisation.
    /// @param prefix the prefix's digits as an integer (leading zeros dropped)
    /// @param digits how many digits the prefix has (6 to 12), leading zeros included
    /// @param owner the organisation's origin
    event CompanyPrefixBound(uint64 indexed prefix, uint8 digits, address indexed owner);

    /// @notice Emitted when the admin released a company prefix from its organisation.
    event CompanyPrefixReleased(uint64 indexed prefix, uint8 digits, address indexed owner);

    /// @notice Emitted when the admin bound one GTIN to an organisation.
    event GtinBound(uint64 indexed gtin, address indexed owner);

    /// @notice Emitted when the admin released a GTIN bound on its own.
    event GtinReleased(uint64 indexed gtin, address indexed owner);

    /// @notice Emitted when a GTIN's owner granted or withdrew a GTIN. Carries every signed
    /// field, so the grant can be re-verified from logs alone. Owner and grantee are origins.
    event GtinGrantChanged(
        uint64 indexed gtin,
        address indexed owner,
        address indexed grantee,
        bool granted,
        uint256 nonce,
        uint64 deadline,
        bytes signature
    );

    /// @notice Emitted when a batch's cooperative or a regulator asked an inspector to
    /// inspect or certify the batch.
    /// @param requestedBy the cooperative's signer, or the regulator's account
    /// @param signature the cooperative's signature; empty when a regulator asked
    event InspectionRequested(
        bytes32 indexed batchId,
        address indexed inspector,
        address indexed requestedBy,
        uint256 nonce,
        uint64 deadline,
        bytes signature
    );

    /// @notice Emitted when a batch was recalled, by its cooperative or by a regulator.
    /// @param recalledBy the cooperative's signer or the regulator's account
    /// @param signature the cooperative's signature; empty when a regulator recalled
    event BatchRecalled(bytes32 indexed batchId, address indexed recalledBy, bytes reasonCid, bytes signature);

    /// @notice Emitted when an organisation packed items or containers into a container.
    /// Carries every signed field, so the packing is re-verifiable from logs alone.
    /// @param custodian the packer's origin, now the container's custodian
    /// @param pendingReceiver the origin of the receiver `counterparty` names (zero when none)
    /// @param state the container's new state hash
    event ContainerPacked(
        bytes32 indexed containerKey,
        address indexed actor,
        bytes32 indexed childrenRoot,
        uint32 childCount,
        bytes32[] batchIds,
        bytes32[] childContainers,
        uint64 occurredAt,
        bytes payloadCid,
        address counterparty,
        bytes32 previous,
        uint64 deadline,
        bytes signature,
        address custodian,
        address pendingReceiver,
        bytes32 state
    );

    /// @notice Emitted when a container was unpacked (its root no longer counts), shipped
    /// (naming its receiver) or received (the receiver taking custody). Carries every signed
    /// field and the new state, so the container's states are rebuilt from logs alone.
    /// @param custodian the custodian's origin after this (zero once unpacked)
    /// @param pendingReceiver the origin of the receiver named after this (zero when none)
    /// @param state the container's new state hash
    event ContainerEventRecorded(
        bytes32 indexed containerKey,
        address indexed actor,
        ContainerAction indexed action,
        uint64 occurredAt,
        bytes payloadCid,
        address counterparty,
        bytes32 previous,
        uint64 deadline,
        bytes signature,
        address custodian,
        address pendingReceiver,
        bytes32 state
    );

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
    /// @notice A company prefix is not 6 to 12 digits, or its value has more digits than it says.
    /// @param prefix the prefix's value
    /// @param digits the digits it claims
    error RegistryCompanyPrefixInvalid(uint64 prefix, uint8 digits);
    /// @notice The company prefix (or a prefix it lies within, or the GTIN) is already bound.
    /// @param prefix the bound prefix's value (or the GTIN)
    /// @param digits the bound prefix's digits (14 for a GTIN bound on its own)
    /// @param owner the origin of the organisation it is bound to
    error RegistryCompanyPrefixAlreadyBound(uint64 prefix, uint8 digits, address owner);
    /// @notice The company prefix (or the GTIN, with 14 digits) is not bound.
    error RegistryCompanyPrefixNotBound(uint64 prefix, uint8 digits);
    /// @notice The attester is neither the GTIN's owner nor granted it.
    /// @param gtin the GTIN
    /// @param attester the attester's signer
    error RegistryGtinNotEntitled(uint64 gtin, address attester);
    /// @notice A grant's signer is not the organisation the GTIN is bound to.
    /// @param gtin the GTIN
    /// @param signer the grant's signer
    error RegistryNotGtinOwner(uint64 gtin, address signer);
    /// @notice An organisation of this kind never records this step (e.g. a retailer harvesting).
    /// @param actor the actor's signer
    /// @param kind the actor's kind
    /// @param bizStep the step
    error RegistryStepNotAllowed(address actor, OrgKind kind, BizStep bizStep);
    /// @notice The actor has no say about this batch: it is not the batch's cooperative, its
    /// custodian, the receiver a shipping event named (for receiving), or an inspector asked
    /// to inspect it (for inspecting and certifying).
    /// @param batchId the batch
    /// @param actor the actor's signer
    /// @param bizStep the step
    error RegistryActorWithoutCustody(bytes32 batchId, address actor, BizStep bizStep);
    /// @notice A shipping event names no receiver, itself, or an organisation that cannot receive.
    /// @param batchId the batch
    /// @param receiver the receiver named
    error RegistryReceiverInvalid(bytes32 batchId, address receiver);
    /// @notice A step other than shipping names a counterparty.
    /// @param bizStep the step
    /// @param counterparty the address given
    error RegistryCounterpartyUnexpected(BizStep bizStep, address counterparty);
    /// @notice The inspector was already asked to inspect this batch.
    error RegistryInspectionAlreadyRequested(bytes32 batchId, address inspector);
    /// @notice The container state a request names (`previous`), or the state given for it,
    /// is not the container's stored state: the container changed since it was signed.
    /// @param containerKey the container
    /// @param stored the stored state hash
    /// @param given the hash named or given
    error RegistryContainerStateMismatch(bytes32 containerKey, bytes32 stored, bytes32 given);
    /// @notice The container already holds a live packing; unpack it first.
    error RegistryContainerLive(bytes32 containerKey);
    /// @notice The container holds nothing (never packed, or unpacked).
    error RegistryContainerEmpty(bytes32 containerKey);
    /// @notice A packing's children root is zero, its child count zero, or it names no batch
    /// and no container.
    error RegistryContainerChildrenInvalid(bytes32 containerKey);
    /// @notice A packing's child states do not match its child containers one for one.
    error RegistryContainerChildStatesLength(uint256 childContainers, uint256 childStates);
    /// @notice The actor is not the container's custodian (for receiving: not the receiver
    /// its shipping named).
    /// @param containerKey the container
    /// @param actor the actor's signer
    /// @param action what it tried (`Shipping` for a case a packing would move into a pallet)
    error RegistryContainerWithoutCustody(bytes32 containerKey, address actor, ContainerAction action);
    /// @notice The container is on its way to a receiver; it cannot be unpacked or packed into
    /// another container until received.
    error RegistryContainerInTransit(bytes32 containerKey);
    /// @notice A container action other than shipping names a counterparty.
    error RegistryContainerCounterpartyUnexpected(ContainerAction action, address counterparty);

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

    /// @notice Binds a GS1 company prefix to an organisation: the GTINs under it are the
    /// organisation's to attest, and to grant to others.
    /// @dev Admin only. A prefix is its value and its number of digits (6 to 12; a UPC
    /// prefix keeps its leading zero, "0614141" is 614141 with 7 digits). A GTIN belongs to
    /// the organisation of the longest bound prefix it starts with (after the indicator
    /// digit), unless the GTIN itself is bound ({bindGtin}). Refused when the prefix is bound,
    /// or lies within a prefix bound to another organisation.
    /// @param prefix the prefix's digits as an integer
    /// @param digits the prefix's length
    /// @param owner the signer of a registered organisation
    function bindCompanyPrefix(uint64 prefix, uint8 digits, address owner) external;

    /// @notice Releases a bound company prefix (a lapsed GS1 licence). Batches already
    /// attested stay as they are.
    /// @dev Admin only.
    function releaseCompanyPrefix(uint64 prefix, uint8 digits) external;

    /// @notice Binds one GTIN to an organisation (a GTIN bought on its own, or allocated
    /// from the operator's prefix); it wins over any prefix the GTIN lies within.
    /// @dev Admin only. Refused when the GTIN is bound already.
    function bindGtin(uint64 gtin, address owner) external;

    /// @notice Releases a GTIN bound with {bindGtin}.
    /// @dev Admin only.
    function releaseGtin(uint64 gtin) external;

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

    /// @notice Asks an inspector organisation to inspect or certify a batch, on a
    /// regulator's own authority.
    /// @dev Regulator only. The inspector must be a registered inspector.
    function requestInspectionAsRegulator(bytes32 batchId, address inspector) external;

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

    /// @notice Records GTIN owners' signed grants and withdrawals, in order.
    /// @dev Relayer only. All-or-nothing, as {attestBatches}. The signer must be the
    /// organisation the GTIN is bound to, and active; the grantee must be registered.
    function changeGtinGrants(GtinGrantRequest[] calldata requests) external;

    /// @notice Records cooperatives' signed requests that inspectors inspect their batches.
    /// @dev Relayer only. All-or-nothing. The requester must be the batch's cooperative
    /// (any of its keys since), active; the inspector a registered inspector.
    function requestInspections(InspectionRequest[] calldata requests) external;

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

    /// @notice The key an organisation was first registered with, which names it for good
    /// (its bindings, grants and custody) across rotations; `signer` itself when never rotated.
    /// Zero for an address no organisation ever held.
    function originOf(address signer) external view returns (address);

    /// @notice The origin of the organisation a GTIN belongs to (its own binding, else the
    /// longest bound company prefix it starts with); zero when none.
    function gtinOwner(uint64 gtin) external view returns (address);

    /// @notice The origin of the organisation a company prefix is bound to; zero when none.
    function companyPrefixOwner(uint64 prefix, uint8 digits) external view returns (address);

    /// @notice Whether the GTIN's owner has granted the GTIN to the organisation of `signer`.
    function gtinGranted(uint64 gtin, address signer) external view returns (bool);

    /// @notice Whether the organisation of `signer` may attest batches of `gtin` now
    /// (its owner or a grantee, active and a cooperative).
    function mayAttest(address signer, uint64 gtin) external view returns (bool);

    /// @notice Whether the batch's cooperative or a regulator asked the inspector (any key of it).
    function inspectionRequested(bytes32 batchId, address inspector) external view returns (bool);

    /// @notice Records many signed packings of containers, in order.
    /// @dev Relayer only. All-or-nothing, as {attestBatches}. The packer must be active, of a
    /// kind that records packing, hold custody of every batch listed (as an event of the
    /// batch would need) and of every child container (not in transit); the container must
    /// not hold a live packing.
    function packContainers(ContainerPackRequest[] calldata requests) external;

    /// @notice Records many signed unpackings, shippings and receivings of containers, in order.
    /// @dev Relayer only. All-or-nothing. Custody moves as a batch's does: a shipping by the
    /// custodian names the receiver (a later shipping replaces it), the receiving by that
    /// receiver completes the handover. Only the custodian unpacks, never in transit.
    function recordContainerEvents(ContainerEventRequest[] calldata requests) external;

    /// @notice The stored state hash of a container (zero when never packed).
    function containerState(bytes32 containerKey) external view returns (bytes32);

    /// @notice Whether the item `(batchId, serial)` is in the container, given the container's
    /// state (from its logs) and the item's Merkle proof; false when the state is not the
    /// stored one or the container holds nothing.
    function containsItem(
        bytes32 containerKey,
        ContainerState calldata state,
        bytes32 batchId,
        string calldata serial,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice Whether the container `childKey` is in the container (a case in a pallet), as
    /// {containsItem}.
    function containsContainer(
        bytes32 containerKey,
        ContainerState calldata state,
        bytes32 childKey,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The EIP-712 domain separator, so clients can check what they sign.
    function domainSeparator() external view returns (bytes32);
}
