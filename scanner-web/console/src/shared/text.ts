/**
 * Language for the consoles: Chinese by default, English on request, remembered on the
 * device. Strings live in tables of [zh, en] pairs beside the console that shows them.
 */
import { pickLocalised, storeLang, type Lang, type Pair } from "../../../src/i18n.ts";

// The scan page's language memory and its tables of steps and certificates serve here too.
export { BIZ_STEP_TEXT, CERT_TEXT, storeLang, storedLang, type Lang, type Pair } from "../../../src/i18n.ts";

/** A fixed [zh, en] string, or a localised text from a document or the API. */
export function pick(pair: Pair | { zh: string; en: string | null }, lang: Lang): string {
  if ("zh" in pair) return pickLocalised(pair, lang);
  return lang === "en" ? pair[1] : pair[0];
}

/** The language switch: the other language, kept on this device for the next visit. */
export function switchLang(lang: Lang): Lang {
  const next = lang === "zh" ? "en" : "zh";
  storeLang(next);
  return next;
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
  sendAgain: ["重新发送", "Send again"],
  retryAt: ["将于 {time} 重试", "retrying at {time}"],
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

/** Organisation kinds, as the regulator and operator consoles name them. */
export const KIND_TEXT: Record<string, Pair> = {
  cooperative: ["合作社", "Cooperative"],
  processor: ["加工企业", "Processor"],
  logistics: ["物流企业", "Logistics"],
  retailer: ["零售商", "Retailer"],
  inspector: ["检测机构", "Inspector"],
  regulator: ["监管机构", "Regulator"],
};

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

export const SEVERITY_TEXT: Record<string, Pair> = {
  critical: ["严重", "Critical"],
  warning: ["警告", "Warning"],
  info: ["提示", "Note"],
};
