/** One benchmark comparison: a baseline and a result measured in the same run, reported as a ratio. */
export interface BenchRow {
  name: string;
  baseline: { label: string; value: number };
  result: { label: string; value: number };
  unit: string;
  /** result / baseline. */
  ratio: number;
  note?: string;
}

export type Bench = () => Promise<BenchRow[]>;
