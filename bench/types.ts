/** One measured figure. `ratio` compares against a baseline measured in the same run. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  note?: string;
}

/** Every bench file exports `run` returning its figures; bench/index.ts prints them all. */
export type BenchSuite = () => Promise<BenchFigure[]>;
