/**
 * A pure function of a string, remembered: what the resolver computes the same way for every
 * scan of a batch (a region's romanised name, a CID's binary form) costs more than a lookup.
 */
export function memoised<T>(compute: (key: string) => T, maxEntries = 10_000): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    if (known.has(key)) return known.get(key) as T;
    const value = compute(key);
    // Bounded: the oldest entry goes first (keys are few in practice: regions, a batch's CIDs).
    if (known.size >= maxEntries) {
      const oldest = known.keys().next();
      if (oldest.done !== true) known.delete(oldest.value);
    }
    known.set(key, value);
    return value;
  };
}
