/**
 * A picture for each step a person records (issue 15, part 5), so a step is recognised
 * before its word is read: plain line drawings on a 24-unit grid, drawn with the text's
 * colour, inline (no icon font, no request). Each is one SVG path; circles are two arcs.
 */

/** A circle as path data: centre (x, y), radius r. */
const o = (x: number, y: number, r: number): string =>
  `M${String(x - r)} ${String(y)}a${String(r)} ${String(r)} 0 1 0 ${String(2 * r)} 0a${String(r)} ${String(r)} 0 1 0 ${String(-2 * r)} 0`;

const PATHS: Record<string, string> = {
  // A seedling in the ground.
  planting: "M12 21v-9M12 12C12 8 9 6 5 6c0 4 3 6 7 6zM12 10c0-3 2-5 6-5 0 3-2 5-6 5zM5 21h14",
  // A watering can with drops (fertiliser, pesticide).
  input_application: "M4 10h10v10H4zM14 13l6-5M6 10V7h6v3M20 12v1M18 15v1",
  // A basket, full.
  harvesting: `M3 11h18l-2 9H5zM7 11a5 5 0 0 1 10 0M9 14v3M15 14v3M12 14v3`,
  // A snowflake.
  cooling: "M12 3v18M4.2 7.5l15.6 9M4.2 16.5l15.6-9M9 4l3 2 3-2M9 20l3-2 3 2",
  // A gear.
  transforming: `${o(12, 12, 3)}${o(12, 12, 7)}M12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2`,
  // A closed box.
  packing: "M3 7l9-4 9 4v10l-9 4-9-4zM3 7l9 4 9-4M12 11v10",
  // An open box with an arrow out of it.
  unpacking: "M4 11h16v9H4zM12 14V3M8 7l4-4 4 4",
  // A lorry.
  shipping: `M2 6h12v10H2zM14 9h4l4 4v3h-8${o(6, 18, 2)}${o(17, 18, 2)}`,
  // An arrow down into a tray.
  receiving: "M12 3v9M8 8l4 4 4-4M3 14h5l1 3h6l1-3h5v6H3z",
  // A flask with a line of liquid.
  inspecting: "M9 3h6M10 3v6l-5 10a1 1 0 0 0 1 2h12a1 1 0 0 0 1-2l-5-10V3M7 15h10",
  // A rosette with ribbons.
  certifying: `${o(12, 9, 5)}M9 13l-2 8 5-3 5 3-2-8`,
  // A shop with an awning.
  retail_selling: "M3 4h18l-1 5H4zM5 9v11h14V9M10 20v-6h4v6",
  // A tag (a new batch's label) with a plus.
  register: `M3 12V3h9l9 9-9 9zM7 7h.01M12 10v6M9 13h6`,
  // A clipboard with lines (any other record).
  record: "M8 3h8v3H8zM6 4H5v17h14V4h-1M8 11h8M8 15h6",
  // A warning triangle.
  recalling: "M12 3l10 18H2zM12 10v5M12 18v.5",
  // A speaker with sound (read aloud).
  speak: "M4 9h4l5-4v14l-5-4H4zM16 9a4 4 0 0 1 0 6M18.5 6.5a8 8 0 0 1 0 11",
  // A microphone (a voice note), and a film camera (a video): for the media beside a record.
  microphone: "M9 5a3 3 0 0 1 6 0v6a3 3 0 0 1-6 0zM5 11a7 7 0 0 0 14 0M12 18v3M8 21h8",
  video: "M3 7h12v10H3zM15 11l6-4v10l-6-4",
};

/** The picture for a step (or "register", "record", "speak", "microphone", "video"); a clipboard for a step without one. */
export function pictogram(name: string): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "pictogram");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("data-pictogram", name);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", PATHS[name] ?? PATHS.record ?? "");
  svg.append(path);
  return svg;
}

/** The step a queued write records, to show its picture in the queue. */
export function pictogramFor(write: { path: string; body: unknown }): string {
  const body = (typeof write.body === "object" && write.body !== null ? write.body : {}) as Record<string, unknown>;
  const step = body.bizStep ?? body.action;
  if (typeof step === "string") return step;
  if (write.path.endsWith("/recall")) return "recalling";
  if (write.path === "/api/v1/batches") return "register";
  return "record";
}
