/** The operator console's words in both languages. */
import { pick, type Pair } from "../shared/text.ts";
import { state } from "./state.ts";

export const T = {
  title: ["运营控制台", "Operator console"],
  notAdmin: ["此令牌不是平台运营方的管理令牌。", "This token is not the operator's admin token."],
  organisations: ["机构", "Organisations"],
  applications: ["入驻申请", "Applications"],
  keys: ["密钥", "Keys"],
  relayer: ["中继账户", "Relayer"],
  outbox: ["上链队列", "Outbox"],
  refresh: ["刷新", "Refresh"],
  name: ["名称", "Name"],
  kind: ["类型", "Kind"],
  region: ["地区", "Region"],
  status: ["状态", "Status"],
  prefixes: ["厂商识别代码", "Company prefixes"],
  platformPrefix: ["平台分配", "from the platform"],
  members: ["人员", "People"],
  ledger: ["账本", "Ledger"],
  actions: ["操作", "Actions"],
  serverKeys: ["平台密钥", "The platform's keys"],
  serverKeysHelp: [
    "只显示地址：私钥始终留在服务器上。角色从链上合约读取。",
    "Addresses only: the private keys never leave the server. Roles are read from the registry on chain.",
  ],
  use: ["用途", "Use"],
  address: ["地址", "Address"],
  roles: ["链上角色", "Roles on chain"],
  noRoles: ["无角色", "No role"],
  balance: ["余额：{value}", "Balance: {value}"],
  chainUnreachable: ["无法读取区块链，角色和余额暂缺。", "The chain cannot be read; roles and balances are missing."],
  organisationKeys: ["机构签名密钥", "Organisations' signing keys"],
  custody: ["保管", "Custody"],
  custodyServer: ["平台托管", "Held by the platform"],
  custodyOwn: ["机构自持", "Own wallet"],
  created: ["创建时间", "Created"],
  relayerBalance: ["中继账户余额", "Relayer balance"],
  lowBalance: [
    "余额低于警戒线 {threshold}：请尽快充值，否则登记和记录将无法上链。",
    "The balance is below the warning line of {threshold}: top it up soon, or registrations and records cannot reach the ledger.",
  ],
  balanceOk: ["余额高于警戒线 {threshold}。", "The balance is above the warning line of {threshold}."],
  last24h: ["最近 24 小时", "Last 24 hours"],
  transactions: ["交易数", "Transactions"],
  mined: ["已打包", "Mined"],
  gasUsed: ["消耗 Gas", "Gas used"],
  fees: ["手续费", "Fees"],
  truncated: ["（交易过多，只统计最新的部分）", "(too many to read all; the newest are counted)"],
  perRegistration: ["每次批次登记的费用", "Fee per batch registration"],
  covers: ["余额可支付的登记次数", "Registrations the balance covers"],
  noSample: ["尚无已上链的批次登记可供估算。", "No registration on the ledger yet to estimate from."],
  sample: ["按最近 {n} 笔交易平均", "averaged over the last {n} transactions"],
  totals: ["各状态合计", "By state"],
  byKind: ["按类型", "By kind"],
  oldestPending: ["最早的待上链记录：{time}，已等待 {age}", "Oldest waiting entry: {time}, waiting for {age}"],
  nonePending: ["没有待上链的记录。", "Nothing is waiting."],
  indexer: ["索引进度", "Indexer"],
  indexed: ["已索引到区块", "Indexed up to block"],
  chainHead: ["链上最新区块", "Chain head"],
  lag: ["落后区块数", "Blocks behind"],
  lagHelp: [
    "索引只读取已有 {n} 个确认的区块（链头本身算一个），所以会略落后于链头。",
    "The indexer reads only blocks with {n} confirmations (the head counts as one), so it trails the head a little.",
  ],
  coinUnit: ["余额单位：链上原生币（1 = 10¹⁸ wei）。", "Balances are in the chain's own coin (1 = 10¹⁸ wei)."],
  chinaTime: ["北京时间", "China time"],
  notIndexed: ["尚未开始", "not yet"],
  unknown: ["未知", "unknown"],
  lastErrors: ["最近的错误", "Last errors"],
  noErrors: ["没有错误记录。", "No error recorded."],
  entry: ["记录", "Entry"],
  attempts: ["尝试次数", "Attempts"],
  code: ["代码", "Code"],
  message: ["信息", "Message"],
  when: ["时间", "When"],
  noRetry: [
    "上链失败的记录不能原样重发：账本拒绝了它的签名内容，重发仍会被拒绝。请让该机构更正后重新登记或记录。",
    "A failed entry cannot be sent again as it is: the ledger refused its signed content and would refuse it again. The organisation records it again, corrected.",
  ],
} as const satisfies Record<string, Pair>;

export const USE_TEXT: Record<string, Pair> = {
  relayer: ["中继（代付 Gas）", "Relayer (pays gas)"],
  admin: ["管理员（登记机构）", "Admin (registers organisations)"],
  regulator: ["监管（暂停、召回）", "Regulator (suspends, recalls)"],
};

export const STATE_TEXT: Record<string, Pair> = {
  pending: ["待上链", "Pending"],
  submitted: ["上链中", "Submitted"],
  anchored: ["已上链", "Anchored"],
  failed: ["上链失败", "Failed"],
};

export const t = (key: keyof typeof T): string => pick(T[key], state.lang);

export function textOf(table: Record<string, Pair>, key: string): string {
  return pick(table[key] ?? [key, key], state.lang);
}

/** `{name}` placeholders filled in. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}
