/**
 * What a figure must reach: a bound on its value, or on its ratio to the baseline measured in the
 * same run. `npm run bench` says of each whether this run met it, and lists the misses at the end.
 */
export interface BenchTarget {
  of: 'value' | 'ratio';
  bound: '≥' | '≤' | '<';
  limit: number;
}

/** One measured figure. `ratio` compares against a baseline measured in the same run. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  note?: string;
  targets?: BenchTarget[];
}

/** Every bench file exports `run` returning its figures; bench/index.ts prints them all. */
export type BenchSuite = () => Promise<BenchFigure[]>;
