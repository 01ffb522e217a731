/**
 * Language for the consoles: Chinese by default, English on request, remembered on the
 * device. Strings live in tables of [zh, en] pairs beside the console that shows them.
 */
export type Lang = "zh" | "en";
export type Pair = readonly [zh: string, en: string];

const LANG_KEY = "oioc.lang";

export function storedLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
  } catch {
    return "zh";
  }
}

export function storeLang(lang: Lang): void {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Not remembered; the switch still works for this visit.
  }
}

export function pick(pair: Pair | { zh: string; en: string | null }, lang: Lang): string {
  if ("zh" in pair) return lang === "en" && pair.en !== null && pair.en !== "" ? pair.en : pair.zh;
  return lang === "en" ? pair[1] : pair[0];
}

/** Strings both consoles show. */
export const COMMON = {
  switchTo: ["English", "中文"],
  signIn: ["登录", "Sign in"],
  signOut: ["退出", "Sign out"],
  token: ["访问令牌", "Access token"],
  tokenHelp: [
    "令牌由平台管理员发放给贵机构。只在本设备保存。",
    "Your organisation's token, issued by the platform's administrator. Kept on this device only.",
  ],
  wrongRole: ["此令牌不能使用本控制台。", "This token cannot use this console."],
  offline: ["离线：操作将在联网后发送", "Offline: actions are sent when you are back online"],
  waiting: ["待发送", "Waiting to send"],
  refused: ["未被接受", "Not accepted"],
  dismiss: ["知道了", "Dismiss"],
  cancel: ["取消", "Cancel"],
  confirm: ["确认", "Confirm"],
  reasonZh: ["原因（中文，必填）", "Reason (Chinese, required)"],
  reasonEn: ["原因（英文，可选）", "Reason (English, optional)"],
  loading: ["加载中…", "Loading…"],
  none: ["暂无", "None yet"],
  error: ["出错了", "Something went wrong"],
  suspendedBanner: [
    "贵机构已被监管部门暂停，暂停期间不能登记或记录。",
    "Your organisation is suspended by the regulator; nothing can be recorded until it is reinstated.",
  ],
} as const satisfies Record<string, Pair>;

/** Where a record stands on the ledger, said plainly. */
export const LEDGER_TEXT: Record<string, Pair> = {
  pending: ["待上链", "Waiting for the ledger"],
  submitted: ["上链中", "Being recorded"],
  anchored: ["已上链", "On the ledger"],
  failed: ["上链失败", "Not recorded"],
};

export const STATUS_TEXT: Record<string, Pair> = {
  active: ["正常", "Active"],
  recalled: ["已召回", "Recalled"],
  suspended: ["已暂停", "Suspended"],
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
};

export const CERT_TEXT: Record<string, Pair> = {
  pollution_free: ["无公害农产品", "Pollution-free produce"],
  green_food: ["绿色食品", "Green Food"],
  organic: ["有机产品", "Organic"],
  geographical_indication: ["农产品地理标志", "Geographical indication"],
};

export const SEVERITY_TEXT: Record<string, Pair> = {
  critical: ["严重", "Critical"],
  warning: ["警告", "Warning"],
  info: ["提示", "Note"],
};
