// Judging figures against their targets, so a regression past one is named in the output instead
// of waiting for someone to compare numbers by eye.
import type { BenchFigure, BenchTarget } from './types.ts';

/** `≥ 0.8×`, `< 1,024 MiB`. */
export function describeTarget(target: BenchTarget, unit: string): string {
  const limit = target.limit.toLocaleString('en-US');
  return target.of === 'ratio' ? `${target.bound} ${limit}×` : `${target.bound} ${limit} ${unit}`;
}

/** The targets this figure missed; null when it has none, or when one judges a ratio the figure lacks. */
export function missedTargets(figure: BenchFigure): BenchTarget[] | null {
  if (!figure.targets || figure.targets.length === 0) return null;
  const missed: BenchTarget[] = [];
  for (const target of figure.targets) {
    const measured = target.of === 'ratio' ? figure.ratio : figure.value;
    if (measured === undefined || !Number.isFinite(measured)) return null;
    const met = target.bound === '≥' ? measured >= target.limit : target.bound === '≤' ? measured <= target.limit : measured < target.limit;
    if (!met) missed.push(target);
  }
  return missed;
}

/** What the output says after a figure: ` — target met`, ` — MISSED target ≥ 0.5×`, or nothing. */
export function verdict(figure: BenchFigure): string {
  const missed = missedTargets(figure);
  if (missed === null) return figure.targets?.length ? ' — target not judged (no ratio measured)' : '';
  if (missed.length === 0) return figure.targets!.length === 1 ? ' — target met' : ' — targets met';
  return ` — MISSED target ${missed.map((t) => describeTarget(t, figure.unit)).join(' and ')}`;
}

/** A target of at least `limit` (of the value, or of the ratio to the baseline). */
export const atLeast = (limit: number, of: BenchTarget['of'] = 'value'): BenchTarget => ({ of, bound: '≥', limit });
/** A target of at most `limit`. */
export const atMost = (limit: number, of: BenchTarget['of'] = 'value'): BenchTarget => ({ of, bound: '≤', limit });
/** A target strictly below `limit`. */
export const below = (limit: number, of: BenchTarget['of'] = 'value'): BenchTarget => ({ of, bound: '<', limit });
