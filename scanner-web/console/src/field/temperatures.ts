/**
 * Temperature readings from what a carrier has: typed lines or a logger's CSV export
 * ("time,°C" per row, a header row and other columns ignored), read in the page.
 */
export interface Reading {
  at: string;
  celsius: number;
}

/** The readings, or the 1-based line that could not be read. */
export function parseReadings(text: string): { readings: Reading[] } | { badLine: number } {
  const readings: Reading[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = line.split(/[,;\t]/).map((cell) => cell.trim().replace(/^"|"$/g, ""));
    const [time = "", value = ""] = cells;
    const atMs = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(time) ? time : `${time.replace(" ", "T")}+08:00`);
    const celsius = Number(value.replace(/\s*°?C$/i, ""));
    if (Number.isNaN(atMs) || value === "" || !Number.isFinite(celsius)) {
      // A logger's header row is not a reading.
      if (readings.length === 0 && index === lines.findIndex((l) => l.trim() !== "")) continue;
      return { badLine: index + 1 };
    }
    readings.push({ at: new Date(atMs).toISOString(), celsius });
  }
  return { readings };
}
