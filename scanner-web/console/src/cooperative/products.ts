/** The products the console has looked up by GTIN, for names on the cards and the register form's hint. */
import type { Product } from "../../../../server/src/storage/catalogue.ts";
import { ProblemFailure } from "../shared/api.ts";
import { pick } from "../shared/text.ts";
import { state } from "./state.ts";

/** GTIN-8/12/13 as the GTIN-14 the server files them under, so one product has one cache entry. */
const cacheKey = (gtin: string): string => gtin.padStart(14, "0");

export async function loadProduct(input: string): Promise<Product | null> {
  const gtin = cacheKey(input);
  if (state.products.has(gtin)) return state.products.get(gtin) ?? null;
  try {
    const product =
      (await state.api?.get<{ product: Product }>(`/api/v1/products/${encodeURIComponent(gtin)}`))?.product ?? null;
    state.products.set(gtin, product);
    return product;
  } catch (error) {
    if (error instanceof ProblemFailure && error.problem.status === 404) state.products.set(gtin, null);
    return null;
  }
}

export function productName(gtin: string): string {
  const product = state.products.get(gtin);
  return product == null ? gtin : pick({ zh: product.nameZh, en: product.nameEn }, state.lang);
}

/** Drops what is known of a GTIN (a product just registered was "unknown" a moment ago). */
export function forgetProduct(gtin: string): void {
  state.products.delete(cacheKey(gtin));
}
