/** One figure of `npm run bench`. A peer's figure is a row of its own, named so the pair is obvious. */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
}

/** A bench module: measures one area and returns its rows. */
export interface BenchSuite {
  name: string;
  run: () => Promise<BenchRow[]>;
}
