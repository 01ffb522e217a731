/** The regulator console's words in both languages. */
import { pick, type Pair } from "../shared/text.ts";
import { state } from "./state.ts";

export const T = {
  title: ["监管控制台", "Regulator console"],
  batches: ["批次", "Batches"],
  organisations: ["机构", "Organisations"],
  audit: ["审计报告", "Audit report"],
  region: ["行政区划代码（前缀）", "Region code (prefix)"],
  cooperative: ["合作社", "Cooperative"],
  anyCooperative: ["全部合作社", "All cooperatives"],
  gtin: ["商品条码", "GTIN"],
  status: ["状态", "Status"],
  any: ["全部", "Any"],
  harvestedFrom: ["采收日期起", "Harvested from"],
  harvestedTo: ["采收日期止", "Harvested to"],
  search: ["查询", "Search"],
  results: ["查询结果：{n} 个批次", "{n} batch(es) found"],
  lot: ["批号", "Lot"],
  harvested: ["采收", "Harvested"],
  items: ["件数", "Items"],
  ledger: ["账本", "Ledger"],
  actions: ["操作", "Actions"],
  runAudit: ["审计", "Audit"],
  auditAll: ["审计查询范围内全部批次", "Audit every batch found"],
  needFilter: ["请至少设置一个筛选条件。", "Set at least one filter first."],
  exportEpcis: ["导出 EPCIS 2.0", "Export EPCIS 2.0"],
  exportCsv: ["导出关键数据 CSV", "Key data CSV"],
  exportXlsx: ["导出关键数据 Excel", "Key data Excel"],
  downloaded: ["已下载：", "Downloaded: "],
  recall: ["责令召回", "Recall"],
  recallTitle: ["责令召回该批次？", "Recall this batch?"],
  recallText: [
    "召回将以监管机构名义签名并写入账本，消费者扫码会看到“已召回”。",
    "The recall is signed in the regulator's name and anchored; every scan shows “Recalled”.",
  ],
  recalled: ["召回已提交，写入账本后扫码页即显示。", "Recall accepted; scans show it once it is anchored."],
  kind: ["类型", "Kind"],
  uscc: ["统一社会信用代码", "USCC"],
  name: ["名称", "Name"],
  regionName: ["地区", "Region"],
  generatedAt: ["生成时间", "Generated"],
  sources: ["证据来源", "Sources"],
  checked: ["已检查", "Checked"],
  noFindings: ["未发现异常。", "No findings."],
  acrossBatches: ["跨批次", "Across batches"],
  print: ["打印", "Print"],
  downloadHtml: ["下载可打印报告（HTML）", "Download printable report (HTML)"],
  downloadJson: ["下载 JSON", "Download JSON"],
  auditing: ["正在从区块链和 IPFS 重新核验…", "Re-verifying from the chain and IPFS…"],
  noReport: ["在“批次”中选择要审计的批次。", "Choose what to audit under “Batches”."],
  evidence: ["证据", "Evidence"],
  notRegulator: ["此令牌不属于监管机构。", "This token does not belong to a regulator."],
  batchCount: ["批次数", "Batches"],
  packing: [
    "装箱：登记 {registered} 件，现在箱中 {live} 件（累计装箱 {ever} 件），共 {count} 个箱或托盘",
    "Packing: {registered} items registered, {live} in cases now ({ever} ever packed), in {count} cases or pallets",
  ],
  orderReferences: ["订单与发货通知", "Orders and despatch advice"],
} as const satisfies Record<string, Pair>;

// Organisation kinds are shown by the operator console too.
export { KIND_TEXT } from "../shared/text.ts";

export const t = (key: keyof typeof T): string => pick(T[key], state.lang);

export function textOf(table: Record<string, Pair>, key: string): string {
  return pick(table[key] ?? [key, key], state.lang);
}
