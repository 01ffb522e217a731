/** The cooperative console's words in both languages, and the steps a cooperative records. */
import { stepsFor } from "../../../../server/src/domain/step-actors.ts";
import { UNITS } from "../../../../server/src/domain/units.ts";
import { pick, type Pair } from "../shared/text.ts";
import { state } from "./state.ts";

export const T = {
  records: ["档案", "Records"],
  plots: ["地块", "Plots"],
  certificationsHeld: ["已登记的认证", "Certificates held"],
  noneYet: ["暂无", "None yet"],
  gtinCheckDigit: ["商品条码校验位不正确。", "The GTIN's check digit is wrong."],
  recordSaved: ["已保存。", "Saved."],
  newProduct: ["登记商品", "Register a product"],
  nameZh: ["名称（中文）", "Name (Chinese)"],
  nameEn: ["名称（英文）", "Name (English)"],
  category: ["品类（用于产量核算）", "Category (for the yield check)"],
  coldMin: ["冷链最低温度 °C", "Cold chain min °C"],
  coldMax: ["冷链最高温度 °C", "Cold chain max °C"],
  netContent: ["每件净含量（选填，用于核对发码量）", "Net content per item (optional, to check the items issued)"],
  netContentUnit: ["净含量单位", "Net content unit"],
  save: ["保存", "Save"],
  newPlot: ["登记地块", "Register a plot"],
  plotName: ["地块名称", "Plot name"],
  areaHa: ["面积（公顷）", "Area (hectares)"],
  regionCode: ["行政区划代码（6 位）", "Region code (6 digits)"],
  latitude: ["纬度", "Latitude"],
  longitude: ["经度", "Longitude"],
  useLocation: ["使用当前位置", "Use my location"],
  noLocation: ["无法获取位置，请手动填写。", "The location is not available; enter it by hand."],
  newCertification: ["登记认证", "Register a certificate"],
  certKind: ["认证类型", "Kind"],
  certNumber: ["证书编号", "Certificate number"],
  certIssuer: ["发证机构", "Issued by"],
  validFrom: ["有效期起", "Valid from"],
  validTo: ["有效期至", "Valid to"],
  scopeGtin: ["适用商品条码", "Product GTIN covered"],
  title: ["合作社控制台", "Cooperative console"],
  batches: ["我的批次", "My batches"],
  register: ["登记新批次", "Register a batch"],
  product: ["商品条码（GTIN）", "Product GTIN"],
  productUnknown: ["未找到该商品，请先登记商品。", "No product with this GTIN; register the product first."],
  lot: ["批号", "Lot number"],
  plot: ["地块", "Plot"],
  noPlot: ["（不指定地块）", "(no plot)"],
  harvestedAt: ["采收时间", "Harvested at"],
  quantity: ["采收数量", "Quantity harvested"],
  unit: ["单位", "Unit"],
  itemCount: ["贴码件数（每件一个码）", "Items to label (one code each)"],
  itemsSpoken: ["件数", "Items"],
  hiddenCodes: ["标签印刮开验证码", "Print a scratch-off verification code on each label"],
  certifications: ["认证（三品一标）", "Certifications"],
  complianceCertificate: ["承诺达标合格证编号", "Compliance certificate number"],
  descriptionZh: ["说明（中文）", "Description (Chinese)"],
  descriptionEn: ["说明（英文）", "Description (English)"],
  video: ["种植视频", "Planting video"],
  uploading: ["正在上传", "Uploading"],
  uploaded: ["已上传", "Uploaded"],
  uploadFirst: ["请等视频上传完成。", "Wait until the video has uploaded."],
  submit: ["提交登记", "Register"],
  accepted: [
    "已提交，正在写入账本。可在“我的批次”查看进度。",
    "Accepted; it is being recorded on the ledger. Follow it under “My batches”.",
  ],
  queued: [
    "当前离线：已保存在本机，联网后自动提交。",
    "You are offline: saved on this phone and sent when you are back online.",
  ],
  sentFromQueue: ["已发送离线时保存的 {n} 项操作。", "Sent {n} action(s) saved while offline."],
  harvest: ["采收", "Harvested"],
  items: ["件", "items"],
  labels: ["下载标签", "Label sheet"],
  labelsNotYet: ["批次上链后才能打印标签。", "Labels can be printed once the batch is on the ledger."],
  labelsStarted: ["标签 PDF 已开始下载。", "The label PDF is downloading."],
  events: ["过程记录", "What happened"],
  record: ["记录", "Record"],
  recordEvent: ["记录新环节", "Record a step"],
  step: ["环节", "Step"],
  occurredAt: ["时间", "When"],
  locationName: ["地点名称", "Place"],
  inputName: ["投入品名称", "Input applied"],
  inputKind: ["类型", "Kind"],
  inputAmount: ["用量", "Amount"],
  inputBatchGtin: ["原料批次商品条码", "Input batch GTIN"],
  inputBatchLot: ["原料批次批号", "Input batch lot"],
  receiver: ["收货机构编号", "Receiving organisation (id)"],
  note: ["备注", "Note"],
  eventAccepted: ["已记录，正在写入账本。", "Recorded; being written to the ledger."],
  coldChainBreach: ["温度超出范围：", "Temperature out of range: "],
  recall: ["召回", "Recall"],
  recallTitle: ["召回该批次？", "Recall this batch?"],
  recallText: [
    "召回后，消费者扫码会看到“已召回”，且无法撤销。",
    "Once recalled, every scan shows “Recalled”. This cannot be undone.",
  ],
  recallAccepted: ["召回已提交，正在写入账本。", "Recall accepted; being written to the ledger."],
  walletSign: ["请在钱包中签名…", "Sign in your wallet…"],
  walletMissing: [
    "本机构使用自有密钥：请在装有钱包的浏览器中打开本页签名。",
    "Your organisation holds its own key: open this page in a browser with your wallet to sign.",
  ],
  technical: ["技术信息", "Technical detail"],
  notCooperative: ["此令牌不属于合作社。", "This token does not belong to a cooperative."],
} as const satisfies Record<string, Pair>;

export const COOPERATIVE_STEPS = stepsFor("cooperative");

export const INPUT_KINDS: Record<string, Pair> = {
  fertilizer: ["肥料", "Fertiliser"],
  pesticide: ["农药", "Pesticide"],
  other: ["其他", "Other"],
};

export const t = (key: keyof typeof T): string => pick(T[key], state.lang);

export function unitName(unit: string): string {
  const known = Object.hasOwn(UNITS, unit) ? UNITS[unit as keyof typeof UNITS] : undefined;
  return known === undefined ? unit : state.lang === "zh" ? known.zh : known.en;
}
