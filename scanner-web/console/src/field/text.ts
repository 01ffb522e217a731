/** The field console's words, [zh, en]. */
import { pick, type Lang, type Pair } from "../shared/text.ts";

export const T = {
  title: ["现场记录", "Field console"],
  notField: [
    "此令牌属于合作社或监管部门，请使用对应的控制台。",
    "This token is a cooperative's or a regulator's: use that console.",
  ],
  scan: ["扫码", "Scan"],
  queue: ["待发送", "Queue"],
  scanHelp: [
    "对准商品、箱或批次上的二维码；也可以输入或粘贴码。",
    "Point the camera at the code on the item, case or batch, or type or paste it.",
  ],
  camera: ["用相机扫码", "Scan with the camera"],
  stopCamera: ["停止相机", "Stop the camera"],
  noCamera: [
    "此设备的浏览器不能用相机识别二维码，请输入码。",
    "This browser cannot read codes from the camera: type the code instead.",
  ],
  photoOfCode: ["拍照识码", "Read the code from a photo"],
  noCodeInPhoto: ["照片里没有找到二维码，请靠近些再拍。", "No code was found in the photo: take it closer."],
  code: ["码（链接、箱码 SSCC 或批次号）", "Code (link, case SSCC or batch id)"],
  look: ["查看", "Look up"],
  badCode: ["无法识别此码。", "This code is not recognised."],
  batch: ["批次", "Batch"],
  container: ["箱/托盘", "Case / pallet"],
  custodian: ["当前保管方", "Held by"],
  pending: ["待接收方", "On its way to"],
  yourOrganisation: ["本机构", "your organisation"],
  history: ["已记录", "Recorded so far"],
  mayRecord: ["您现在可以记录", "What you may record now"],
  nothingNow: ["您的机构现在不能对它记录任何环节。", "Your organisation has nothing to record about it now."],
  offlineInfo: ["离线：显示的是最后一次联网时的情况。", "Offline: showing what was known when last online."],
  receiver: ["接收方机构编号", "Receiving organisation (id)"],
  when: ["时间", "When"],
  temperatures: ["温度记录（每行：时间,温度）", "Temperatures (one per line: time,°C)"],
  csv: ["导入温度记录仪 CSV", "Import a temperature logger's CSV"],
  readings: ["条温度读数", "temperature readings"],
  badReadings: ["温度记录有误，第 {n} 行。", "The temperature list is wrong at line {n}."],
  substance: ["检测项目", "Substance tested"],
  result: ["结果（mg/kg）", "Result (mg/kg)"],
  limit: ["限量（mg/kg）", "Limit (mg/kg)"],
  standard: ["标准", "Standard"],
  passed: ["合格", "Passed"],
  photo: ["检测报告照片", "Photo of the report"],
  note: ["备注", "Note"],
  record: ["记录", "Record"],
  queued: ["已保存，将在联网后发送。", "Saved: it is sent when the phone is back online."],
  sent: ["已发送。", "Sent."],
  sentFromQueue: ["已发送 {n} 条待发送的记录。", "Sent {n} waiting records."],
  emptyQueue: ["没有待发送的记录。", "Nothing is waiting."],
  uploading: ["上传照片", "Uploading the photo"],
  photoWaiting: ["张照片保存在手机上", "photo(s) kept on this phone"],
  // Words said before a number read aloud, and what each read-aloud button is for.
  lotWord: ["批号", "Lot"],
  gtinWord: ["商品条码", "GTIN"],
  serialWord: ["序号", "Serial"],
  caseWord: ["箱码", "Case code"],
  itemsWord: ["件", "items"],
  theCode: ["扫到的码", "the code scanned"],
  theTemperatures: ["温度记录", "the temperatures"],
  noReadings: ["还没有温度读数。", "No temperature readings yet."],
} as const satisfies Record<string, Pair>;

export const ACTION_TEXT: Record<string, Pair> = {
  shipping: ["发货", "Ship"],
  receiving: ["收货", "Receive"],
  retail_selling: ["销售", "Sell"],
  inspecting: ["检测", "Inspect"],
  certifying: ["认证", "Certify"],
  cooling: ["预冷", "Cool"],
  packing: ["包装", "Pack"],
  transforming: ["加工", "Process"],
  unpacking: ["拆箱", "Unpack"],
};

export function tr(pair: Pair, lang: Lang, values: Record<string, string> = {}): string {
  let text = pick(pair, lang);
  for (const [key, value] of Object.entries(values)) text = text.replace(`{${key}}`, value);
  return text;
}
