/**
 * Why the ledger refused a record, in words a cooperative's bookkeeper understands. The
 * ledger writer stores the registry's custom error as text ("RegistrySignatureExpired(…)");
 * the API returns it unchanged for engineers and, beside it, a stable code with this
 * explanation for people, and the cooperative console shows the explanation. Pure: the
 * console bundles it as it is.
 */

export interface LedgerFailureExplanation {
  /** The stable code of the refusal (a key of EXPLANATIONS), or "unknown". */
  code: string;
  zh: string;
  en: string;
}

/**
 * By the codes the API reports, one per kind of refusal. They are the registry's error
 * names from before its errors took the `Registry` prefix, kept so that integrators, and
 * reasons stored before the rename, read as they did; every refused field is `InvalidField`.
 */
const EXPLANATIONS = {
  SignatureExpired: {
    zh: "签名在写入账本前已过期（等待时间过长）。请重新登记该批次。",
    en: "The signature expired before it reached the ledger (it waited too long). Register the batch again.",
  },
  BatchAlreadyRegistered: {
    zh: "账本上已有同一产品、同一批号的批次。请换一个批号重新登记。",
    en: "The ledger already holds a batch of this product with this lot number. Register it again with another lot number.",
  },
  BatchUnknown: {
    zh: "账本上找不到该批次，批次可能尚未上链。请等批次上链后再记录。",
    en: "The ledger does not know this batch yet. Wait until the batch is recorded, then try again.",
  },
  BatchAlreadyRecalled: {
    zh: "该批次已经召回，不能再记录。",
    en: "This batch has already been recalled; nothing more can be recorded for it.",
  },
  NotBatchAttester: {
    zh: "只有登记该批次的合作社可以做这项操作。",
    en: "Only the cooperative that registered this batch can do this.",
  },
  OrganisationUnknown: {
    zh: "本合作社尚未在账本上登记。请联系平台管理员。",
    en: "Your organisation is not registered on the ledger yet. Contact the platform's administrator.",
  },
  OrganisationSuspendedError: {
    zh: "本合作社已被监管部门暂停，暂停期间不能登记或记录。",
    en: "Your organisation is suspended by the regulator; nothing can be recorded while it is suspended.",
  },
  OrganisationKindNotAllowed: {
    zh: "本机构的类型不能做这项记录。",
    en: "Your kind of organisation may not record this.",
  },
  OrganisationAlreadyRegistered: {
    zh: "该签名地址已登记给另一个机构。",
    en: "This signing address is already registered to another organisation.",
  },
  OrganisationNotSuspended: {
    zh: "该机构并未被暂停。",
    en: "This organisation is not suspended.",
  },
  SignatureInvalid: {
    zh: "签名与本合作社登记的密钥不符。请检查签名所用的钱包。",
    en: "The signature does not match your organisation's registered key. Check the wallet that signed it.",
  },
  NonceAlreadyUsed: {
    zh: "同一份签名已经用过一次（重复提交）。请重新登记。",
    en: "This signed record was already used once (a duplicate). Register it again.",
  },
  InvalidField: {
    zh: "账本拒绝了其中一项数据。请检查填写的内容。",
    en: "The ledger refused one of the values. Check what was entered.",
  },
  EmptySubmission: {
    zh: "提交内容为空。",
    en: "Nothing was submitted.",
  },
  // OpenZeppelin's: the platform's own accounts, not the cooperative, are at fault here.
  AccessControlUnauthorizedAccount: {
    zh: "平台的上链账户没有权限。这不是您的问题，请联系平台管理员。",
    en: "The platform's ledger account lacks a permission. This is not your fault; contact the platform's administrator.",
  },
  AccessControlBadConfirmation: {
    zh: "平台账户权限操作有误。请联系平台管理员。",
    en: "A permission change on the platform's account was refused. Contact the platform's administrator.",
  },
  "event.no_custody": {
    zh: "该机构无权记录此批次：既不是该批次的合作社、当前保管方、发运事件指定的收货方，也不是受托检验的机构。",
    en: "Your organisation has no say about this batch: it is not its cooperative, its custodian, the receiver a shipping named, or an inspector asked to inspect it.",
  },
  "event.step_not_allowed": {
    zh: "本机构的类型不能记录这个环节。",
    en: "Your kind of organisation never records this step.",
  },
  "event.receiver_invalid": {
    zh: "发运事件的收货方无效：须为另一家已登记、可记录收货的机构。",
    en: "The shipping's receiver is not another registered organisation that records receiving.",
  },
  "event.counterparty_unexpected": {
    zh: "只有发运事件可以指定收货方。",
    en: "Only a shipping event names a receiver.",
  },
  "inspection.already_requested": {
    zh: "已请该检验机构检验此批次。",
    en: "This inspector was already asked to inspect this batch.",
  },
  "gtin.not_entitled": {
    zh: "本机构无权使用该商品条码：既不是其厂商识别代码的所有者，也未获所有者授权。",
    en: "Your organisation may not use this GTIN: it neither owns its company prefix nor was granted it by the owner.",
  },
  "gtin.not_owner": {
    zh: "只有该商品条码的所有者可以授权或撤销授权。",
    en: "Only the GTIN's owner may grant it or withdraw a grant.",
  },
  "company_prefix.invalid": {
    zh: "厂商识别代码应为 6 至 12 位数字。",
    en: "A company prefix has 6 to 12 digits.",
  },
  "company_prefix.taken": {
    zh: "该厂商识别代码（或商品条码）已绑定，或属于另一机构已绑定的厂商识别代码。",
    en: "This company prefix (or GTIN) is already bound, or lies within another organisation's prefix.",
  },
  "company_prefix.not_bound": {
    zh: "该厂商识别代码（或商品条码）在账本上没有绑定。",
    en: "This company prefix (or GTIN) is not bound on the ledger.",
  },
  "container.state_stale": {
    zh: "箱（托盘）在签名之后已有变动（装箱、发货或收货已先写入账本）。请按它现在的状态重新签名。",
    en: "The case (or pallet) changed after this was signed (a packing, shipping or receiving reached the ledger first). Sign it again for its current state.",
  },
  "container.live": {
    zh: "该箱（托盘）已装有货品。请先拆箱，再重新装箱。",
    en: "This case (or pallet) is already packed. Unpack it before packing it again.",
  },
  "container.empty": {
    zh: "该箱（托盘）是空的（从未装箱或已拆箱）。",
    en: "This case (or pallet) is empty (never packed, or unpacked).",
  },
  "container.no_custody": {
    zh: "该机构不持有这个箱（托盘），或不是发货时指定的收货方。",
    en: "This organisation does not hold this case (or pallet), or is not the receiver its shipping named.",
  },
  "container.in_transit": {
    zh: "该箱（托盘）正在运往收货方，收货前不能拆箱或装入托盘。",
    en: "This case (or pallet) is on its way to a receiver; it cannot be unpacked or palletised until received.",
  },
  StringTooLong: {
    zh: "某项文字过长，账本无法保存。",
    en: "A text is too long for the ledger.",
  },
  InvalidShortString: {
    zh: "某项文字格式有误，账本无法保存。",
    en: "A text is malformed for the ledger.",
  },
} as const satisfies Record<string, { zh: string; en: string }>;

type LedgerFailureCode = keyof typeof EXPLANATIONS;

/** Each custom error the registry can raise (contracts/interfaces/ITraceRegistry.sol) by its code. */
const CODE_OF_ERROR = {
  RegistrySignatureExpired: "SignatureExpired",
  RegistrySignatureInvalid: "SignatureInvalid",
  RegistryNonceAlreadyUsed: "NonceAlreadyUsed",
  RegistryBatchAlreadyRegistered: "BatchAlreadyRegistered",
  RegistryBatchUnknown: "BatchUnknown",
  RegistryBatchAlreadyRecalled: "BatchAlreadyRecalled",
  RegistryNotBatchAttester: "NotBatchAttester",
  RegistryOrganisationUnknown: "OrganisationUnknown",
  RegistryOrganisationSuspended: "OrganisationSuspendedError",
  RegistryOrganisationKindNotAllowed: "OrganisationKindNotAllowed",
  RegistryOrganisationAlreadyRegistered: "OrganisationAlreadyRegistered",
  RegistryOrganisationNotSuspended: "OrganisationNotSuspended",
  RegistryEmptySubmission: "EmptySubmission",
  RegistryAdminZero: "InvalidField",
  RegistrySignerZero: "InvalidField",
  RegistryKindNone: "InvalidField",
  RegistryRegionCodeOutOfRange: "InvalidField",
  RegistryMetadataCidEmpty: "InvalidField",
  RegistryReasonCidEmpty: "InvalidField",
  RegistryPayloadCidEmpty: "InvalidField",
  RegistryGtinOutOfRange: "InvalidField",
  RegistryLotEmpty: "InvalidField",
  RegistryLotTooLong: "InvalidField",
  RegistryItemsRootZero: "InvalidField",
  RegistryItemCountZero: "InvalidField",
  RegistryQuantityMilliZero: "InvalidField",
  RegistryUnitEmpty: "InvalidField",
  RegistryUnitTooLong: "InvalidField",
  RegistryHarvestedAtZero: "InvalidField",
  RegistryHarvestedAtInFuture: "InvalidField",
  RegistryOccurredAtZero: "InvalidField",
  RegistryActorWithoutCustody: "event.no_custody",
  RegistryStepNotAllowed: "event.step_not_allowed",
  RegistryReceiverInvalid: "event.receiver_invalid",
  RegistryCounterpartyUnexpected: "event.counterparty_unexpected",
  RegistryInspectionAlreadyRequested: "inspection.already_requested",
  RegistryGtinNotEntitled: "gtin.not_entitled",
  RegistryNotGtinOwner: "gtin.not_owner",
  RegistryCompanyPrefixInvalid: "company_prefix.invalid",
  RegistryCompanyPrefixAlreadyBound: "company_prefix.taken",
  RegistryCompanyPrefixNotBound: "company_prefix.not_bound",
  RegistryContainerStateMismatch: "container.state_stale",
  RegistryContainerLive: "container.live",
  RegistryContainerEmpty: "container.empty",
  RegistryContainerChildrenInvalid: "InvalidField",
  RegistryContainerChildStatesLength: "InvalidField",
  RegistryContainerWithoutCustody: "container.no_custody",
  RegistryContainerInTransit: "container.in_transit",
  RegistryContainerCounterpartyUnexpected: "event.counterparty_unexpected",
  // OpenZeppelin's, under their own names.
  AccessControlUnauthorizedAccount: "AccessControlUnauthorizedAccount",
  AccessControlBadConfirmation: "AccessControlBadConfirmation",
  StringTooLong: "StringTooLong",
  InvalidShortString: "InvalidShortString",
} as const satisfies Record<string, LedgerFailureCode>;

/** The name of a custom error the registry can raise, its own or OpenZeppelin's. */
export type RegistryErrorName = keyof typeof CODE_OF_ERROR;

const UNKNOWN = {
  zh: "账本拒绝了这条记录。请把下面的技术信息发给平台管理员。",
  en: "The ledger refused this record. Send the technical detail below to the platform's administrator.",
};

function codeOf(name: string): LedgerFailureCode | undefined {
  if (Object.hasOwn(CODE_OF_ERROR, name)) return CODE_OF_ERROR[name as RegistryErrorName];
  // A reason the writer stored before the registry's errors took their prefix.
  return Object.hasOwn(EXPLANATIONS, name) ? (name as LedgerFailureCode) : undefined;
}

/** Null when there was no failure; otherwise the plain-words explanation of `reason`. */
export function explainLedgerFailure(reason: string | null): LedgerFailureExplanation | null {
  if (reason === null) return null;
  // "waiting: X(…)" marks a retry in progress (the writer reschedules); the cause is still X.
  const name = /^(?:waiting: )?([A-Za-z][A-Za-z0-9]*)\(/.exec(reason)?.[1] ?? reason.trim();
  const code = codeOf(name);
  return code === undefined ? { code: "unknown", ...UNKNOWN } : { code, ...EXPLANATIONS[code] };
}

/** Every error name the table explains, for the test that keeps it in step with the contract. */
export const EXPLAINED_LEDGER_ERRORS: readonly string[] = Object.keys(CODE_OF_ERROR);
