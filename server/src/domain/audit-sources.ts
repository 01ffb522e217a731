/**
 * How an audit report names where its evidence came from. A CLI audit names its endpoints by
 * URL (data, shown as given); the server's own audit reads the platform's node and store, which
 * a report names by these keys and each reader shows in its own language.
 */
export const PLATFORM_RPC = "platform:chain-node";
export const PLATFORM_CONTENT = "platform:ipfs-store";

const LABELS: Record<string, { zh: string; en: string }> = {
  [PLATFORM_RPC]: { zh: "平台的链节点（JSON-RPC）", en: "the platform's chain node (JSON-RPC)" },
  [PLATFORM_CONTENT]: {
    zh: "平台的 IPFS 存储，每个文件重新计算哈希",
    en: "the platform's IPFS store, every file re-hashed",
  },
};

/** A source in the report's language: the platform's own in words, anything else as given. */
export function sourceLabel(source: string, lang: "zh" | "en"): string {
  return LABELS[source]?.[lang] ?? source;
}
