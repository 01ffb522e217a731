/**
 * Debian's Chromium for page tests and benches, driven by playwright-core. These flags are
 * what this machine needs: headless, no sandbox as root, and no background networking
 * (its connections to Google's hosts are refused here, many at a time).
 */
import { chromium, type Browser } from "playwright-core";

import { ensureDebianPackages, requireOrSkip } from "./debian-packages.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Installs Chromium and a CJK font when missing; null when it cannot be had (outside CI only). */
export async function launchChromium(what: string): Promise<Browser | null> {
  const { missing } = await ensureDebianPackages([
    { name: "chromium", probe: CHROMIUM_PATH },
    { name: "fonts-wqy-microhei", probe: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc" },
  ]);
  if (!requireOrSkip(missing, what)) return null;
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
