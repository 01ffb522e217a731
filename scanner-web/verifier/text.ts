/**
 * The independent verifier's own strings, zh and en, beside the scan page's table
 * (`../src/i18n.ts`), which it reuses for verdicts, checks and business steps.
 */
import type { Pair } from "../src/i18n.ts";

/** Verdicts only this page gives: no quorum, a link it cannot use, a resolution that breaks a pin. */
export const VERIFIER_VERDICT_TEXT = {
  no_quorum: {
    icon: "!",
    title: ["无法独立核验", "Cannot verify independently"],
    sentence: [
      "连不上足够多的独立区块链节点（需要 {quorum} 个一致），无法核对记录；这不代表商品有问题，请稍后重试。",
      "Cannot reach enough independent blockchain nodes ({quorum} must agree), so the record cannot be checked; this says nothing against the item. Please try again later.",
    ],
  },
  bad_link: {
    icon: "?",
    title: ["链接无效", "Not a product link"],
    sentence: [
      "请输入商品二维码中的完整链接（以 https:// 开头）。",
      "Enter the whole link from the product's QR code (starting with https://).",
    ],
  },
  pin_mismatch: {
    icon: "✕",
    title: ["未通过验证", "Not verified"],
    sentence: [
      "平台的回答与本核验程序内置的区块链或登记合约不符：不能相信它。",
      "The platform's answer does not match the blockchain or registry built into this verifier: do not trust it.",
    ],
  },
} as const satisfies Record<string, { icon: string; title: Pair; sentence: Pair }>;

export const VERIFIER_TEXT = {
  brand: ["独立核验", "Independent verifier"],
  intro: [
    "此页面不依赖平台：它只相信内置的区块链、登记合约和多个独立节点，自行核对平台给出的每一条记录。",
    "This page does not rely on the platform: it trusts only the chain, registry and independent nodes built into it, and checks every record the platform gives.",
  ],
  linkLabel: ["商品链接", "Product link"],
  linkHint: ["粘贴或输入二维码中的链接", "Paste or type the link from the QR code"],
  verify: ["核验", "Verify"],
  restedOn: ["本次核验依据", "What this rested on"],
  pinnedChain: ["内置区块链 ID", "Pinned chain id"],
  pinnedRegistry: ["内置登记合约", "Pinned registry"],
  pinnedValidators: ["内置验证节点", "Pinned validators"],
  quorumRule: ["一致要求", "Agreement required"],
  quorumOf: ["{quorum} / {n} 个节点", "{quorum} of {n} nodes"],
  sealsRule: ["至少三分之二验证节点签名的区块", "blocks sealed by at least two thirds of the validators"],
  block: ["核验所用区块", "Block read at"],
  noBlock: ["没有可信的区块", "no trusted block"],
  sealedBy: ["签名的验证节点", "Sealed by"],
  endpoints: ["节点", "Nodes"],
  agreed: ["一致", "agreed"],
  lied: ["答复不实", "gave a false answer"],
  unreachable: ["无法连接", "unreachable"],
  notAsked: ["未询问", "not asked"],
  checks: ["核对项目", "Checks"],
  findings: ["安全问题", "Safety findings"],
  platform: ["平台", "Platform"],
  checkPassed: ["通过", "passed"],
  checkFailed: ["未通过", "failed"],
  checkPending: ["待上链", "pending"],
  pinVersion: [
    "平台声称的签名版本为 {claimed}，内置版本为 {pinned}",
    "The platform claims typed-data version {claimed}; the pinned version is {pinned}",
  ],
  pinRegistry: [
    "平台的回答指向登记合约 {claimed}，而不是内置的 {pinned}",
    "The platform's answer names registry {claimed}, not the pinned {pinned}",
  ],
  pinChain: [
    "平台的回答指向区块链 {claimed}，而不是内置的 {pinned}",
    "The platform's answer names chain {claimed}, not the pinned {pinned}",
  ],
  unknownCode: ["此码不存在，可能是假冒产品。", "This code does not exist. The product may be counterfeit."],
  loadFailed: ["无法从平台取得此商品的记录。", "Could not get this item's record from the platform."],
} as const satisfies Record<string, Pair>;
