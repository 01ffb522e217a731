/**
 * pdfkit, loaded when the first PDF is drawn rather than by every start: with fontkit and
 * its WOFF2 decoder it is about a quarter of a second of the code a start loads, paid again
 * by every restart after a crash before the server answers, and most starts draw no PDF.
 */
export async function loadPdfDocument(): Promise<typeof import("pdfkit")> {
  return (await import("pdfkit")).default;
}
