/**
 * Every string the scan page shows, in Chinese and English, in one table: translators
 * review it in one place, and the page never builds a sentence from fragments.
 */
import type { CheckId, Verdict } from "../../server/src/verify/index.ts";

export type Lang = "zh" | "en";

const LANG_KEY = "oioc.lang";

export function storedLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
  } catch {
    // Storage can be off (private mode, some WebViews): Chinese by default.
    return "zh";
  }
}

export function storeLang(lang: Lang): void {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Not persisted; the switch still works for this visit.
  }
}

export type Pair = readonly [zh: string, en: string];

/**
 * Beside the verifier's verdicts: `unknown`, a code never issued (404); `checking`, before the
 * verdict; `bad_code`, the resolver refused the code (400); `error`, no answer; `chain_down`,
 * the chain could not be read.
 */
export type VerdictKey = Verdict | "unknown" | "checking" | "error" | "bad_code" | "chain_down";

export const VERDICT_TEXT: Record<VerdictKey, { title: Pair; sentence: Pair; icon: string }> = {
  checking: {
    icon: "…",
    title: ["正在验证", "Checking"],
    sentence: ["正在核对区块链上的记录，请稍候。", "Checking the blockchain record, one moment."],
  },
  verified: {
    icon: "✓",
    title: ["已验证", "Verified"],
    sentence: ["这件商品的信息与区块链上的记录一致。", "This item's information matches the blockchain record."],
  },
  warning: {
    icon: "!",
    title: ["有安全问题", "Safety warning"],
    sentence: [
      "记录是真实的，但记录显示了下面的问题，请勿放心食用：",
      "The records are genuine, but they show a problem; do not eat it without care:",
    ],
  },
  recalled: {
    icon: "✕",
    title: ["已召回", "Recalled"],
    sentence: [
      "该批次已被召回，请勿食用，可联系商家退货。",
      "This batch has been recalled. Do not eat it; ask the shop for a refund.",
    ],
  },
  suspicious: {
    icon: "!",
    title: ["可疑", "Suspicious"],
    sentence: [
      "此码真实，但扫码记录异常，可能是被复制的码。",
      "The code is genuine, but its scans look unusual: it may have been copied.",
    ],
  },
  not_verified: {
    icon: "✕",
    title: ["未通过验证", "Not verified"],
    sentence: [
      "商品信息与区块链上的记录不一致，请谨慎购买。",
      "The information does not match the blockchain record. Be careful buying this.",
    ],
  },
  pending: {
    icon: "⏳",
    title: ["待上链", "Pending"],
    sentence: [
      "该批次正在写入区块链，请稍后再扫一次。",
      "This batch is still being written to the blockchain; scan again later.",
    ],
  },
  unknown: {
    icon: "?",
    title: ["未知", "Unknown code"],
    sentence: ["此码不存在，可能是假冒产品。", "This code does not exist. The product may be counterfeit."],
  },
  error: {
    icon: "!",
    title: ["无法加载", "Could not load"],
    sentence: ["网络不稳定，请稍后重试。", "The network is unstable; please try again."],
  },
  bad_code: {
    icon: "?",
    title: ["商品码有误", "This code is malformed"],
    sentence: [
      "这个二维码的内容不是有效的商品码，可能印刷错误或被篡改：",
      "This QR code does not hold a valid product code; it may be misprinted or altered:",
    ],
  },
  chain_down: {
    icon: "!",
    title: ["暂时无法核验", "Cannot check right now"],
    sentence: [
      "暂时连不上区块链节点，无法核对记录；这不代表商品有问题，请稍后重试。",
      "The blockchain node cannot be reached, so the record cannot be checked; this says nothing against the item. Please try again later.",
    ],
  },
};

/** The checks by name: shown only when "how we checked" is opened, so on-demand.ts carries them. */
export const CHECK_TEXT: Record<CheckId, Pair> = {
  chain_id: ["连接的是正确的区块链", "Connected to the right blockchain"],
  item_identity: ["商品码与批次一致", "The code belongs to this batch"],
  attestation_signature: ["合作社的数字签名有效", "The cooperative's digital signature is valid"],
  attester_registered: ["签名的合作社已在链上登记", "The signing cooperative is registered on chain"],
  items_root_on_chain: ["批次承诺与链上记录一致", "The batch commitment matches the chain"],
  item_in_batch: ["此件商品在该批次中", "This item is part of the batch"],
  item_count: ["批次数量与链上记录一致", "The item count matches the chain"],
  metadata_cid: ["产品资料未被篡改", "The product record is unaltered"],
  event_signatures: ["每条流通记录均有签名", "Every lifecycle record is signed"],
  event_payloads: ["流通记录的内容未被篡改", "The lifecycle records' contents are unaltered"],
  event_head_on_chain: ["流通记录完整、顺序正确", "No lifecycle record is missing or reordered"],
  entitlement: ["登记者有权使用该商品条码", "Registered by an organisation entitled to the GTIN"],
  custody: [
    "每条流通记录都由当时有权记录的单位记录",
    "Each lifecycle record was made by an organisation entitled to it",
  ],
  status_on_chain: ["链上批次状态", "Batch status on chain"],
  containers: ["装箱与物流记录", "Cases, pallets and shipments"],
};

export const BIZ_STEP_TEXT: Record<string, Pair> = {
  planting: ["种植", "Planting"],
  input_application: ["施肥/用药", "Fertiliser / pesticide"],
  harvesting: ["采收", "Harvesting"],
  cooling: ["预冷", "Cooling"],
  transforming: ["加工", "Processing"],
  packing: ["包装", "Packing"],
  shipping: ["发货运输", "Shipping"],
  receiving: ["收货", "Receiving"],
  inspecting: ["检测", "Inspection"],
  certifying: ["认证", "Certification"],
  retail_selling: ["上架销售", "On sale"],
  recalling: ["召回", "Recall"],
  unknown: ["未知环节", "Unknown step"],
};

export const CERT_TEXT: Record<string, Pair> = {
  pollution_free: ["无公害农产品", "Pollution-free produce"],
  green_food: ["绿色食品", "Green Food"],
  organic: ["有机产品", "Organic"],
  geographical_indication: ["农产品地理标志", "Geographical indication"],
};

export const UNIT_TEXT: Record<string, Pair> = {
  KGM: ["千克", "kg"],
  GRM: ["克", "g"],
  TNE: ["吨", "t"],
  H87: ["件", "pieces"],
  BG: ["袋", "bags"],
  BX: ["箱", "boxes"],
};

export const UI_TEXT = {
  switchTo: ["English", "中文"],
  cooperative: ["合作社", "Cooperative"],
  origin: ["产地", "Origin"],
  plot: ["地块", "Plot"],
  harvestDate: ["采收日期", "Harvest date"],
  quantity: ["批次数量", "Batch quantity"],
  lot: ["批号", "Lot"],
  certifications: ["认证", "Certifications"],
  validity: ["有效期", "Valid"],
  notAtHarvest: ["采收时不在有效期内", "not valid at harvest"],
  complianceCertificate: ["承诺达标合格证", "Compliance certificate (合格证) No."],
  tests: ["检测结果", "Test results"],
  testPassed: ["合格", "passed"],
  testFailed: ["不合格", "FAILED"],
  temperatures: ["运输温度", "Temperatures in transit"],
  keepAt: ["保存温度（合作社签名）", "Keep at (signed by the cooperative)"],
  keepAtPlatform: ["保存温度（平台登记）", "Keep at (platform record)"],
  noCertifications: ["无", "None"],
  timeline: ["全程记录", "Lifecycle"],
  notOnChain: ["尚未上链", "Not yet on chain"],
  badSignature: ["签名无效", "Invalid signature"],
  video: ["种植视频", "Planting video"],
  howChecked: ["我们如何验证", "How we checked"],
  recallReason: ["召回原因", "Reason for recall"],
  scanCount: ["此码已被扫描 {n} 次", "Scans of this code so far: {n}"],
  hiddenCode: ["刮开涂层验证", "Scratch-off code"],
  hiddenCodeHint: ["请输入刮开涂层下的 8 位数字", "Enter the 8 digits under the scratch-off"],
  submit: ["验证", "Check"],
  // Also what a claim says when the script answering it cannot be loaded.
  claimError: ["暂时无法验证，请稍后再试", "Cannot check right now; try again later"],
  code: ["商品码", "Item code"],
  independent: ["独立核验", "Verify independently"],
  registeredBy: ["登记资格", "Registered by"],
  byGtinOwner: ["由商品条码所有者登记", "Registered by the GTIN's owner"],
  byGrantee: ["由 {who} 经 {owner} 授权登记", "Registered by {who} under a grant from {owner}"],
  theOwner: ["条码所有者", "the GTIN's owner"],
  prefixOwner: ["厂商识别代码 {prefix} 的所有者", "the owner of company prefix {prefix}"],
  notEntitled: [
    "登记者无权使用该商品条码：这可能是冒用他人条码登记的批次",
    "The registrant was not entitled to this GTIN: the batch may have been registered under someone else's code",
  ],
  handover: ["交接：{from} → {to}", "Handed over by {from} to {to}"],
  noCustody: ["无权记录", "No custody"],
  noCustodyFinding: [
    "「{actor}」记录了「{step}」，但它当时无权记录这个批次：这条记录不可信",
    "{actor} recorded “{step}” without custody of this batch: do not trust this record",
  ],
} as const satisfies Record<string, Pair>;

/**
 * What the page shows only on demand (on-demand.ts, a script of its own): the status of each
 * check once "how we checked" is opened, and the answers to a hidden-code claim. Kept out of
 * `UI_TEXT`, which the page's own script carries whole.
 */
export const ON_DEMAND_TEXT = {
  checkPassed: ["通过", "passed"],
  checkFailed: ["未通过", "failed"],
  checkPending: ["待上链", "pending"],
  firstClaim: ["首次验证成功", "First check: genuine"],
  claimedBefore: ["此码已于 {time} 被验证过", "This code was already checked on {time}"],
  wrongCode: ["验证码不正确", "The code is wrong"],
  rateLimited: ["尝试次数过多，请稍后再试", "Too many attempts; try again later"],
} as const satisfies Record<string, Pair>;

export function pick(pair: Pair, lang: Lang): string {
  return lang === "zh" ? pair[0] : pair[1];
}

/** A localised document text: the English when asked for and present, else the Chinese. */
export function pickLocalised(text: { zh: string; en: string | null } | null | undefined, lang: Lang): string {
  if (text === null || text === undefined) return "";
  return lang === "en" && text.en !== null && text.en !== "" ? text.en : text.zh;
}
