import type { AdvantageMethod, GroupBy } from '../advantages/index.ts';
import type { DriftCause, TokenSavings } from '../trajectory/index.ts';

/** What an export did and what it left out: printed after every export, and with --json as JSON. */
export interface ExportSummary {
  runId: string;
  /** A run that is still running or was interrupted may have incomplete groups. */
  runStatus: 'running' | 'finished' | 'interrupted';
  target: string;
  variant: string;
  format: 'jsonl' | 'parquet';
  output: string | null;
  rows: number;
  rollouts: {
    total: number;
    exported: number;
    /** By reason: how many, and the first few rollouts with the detail. */
    skipped: Record<string, { count: number; examples: string[] }>;
  };
  /** `uniform`: groups of several rollouts that all got the same reward, so their advantages are 0 too. */
  groups: { count: number; singletons: number; uniform: number; method: AdvantageMethod; groupBy: GroupBy; largest: number };
  drift: {
    /** Rollouts with at least one break other than a context reset. */
    rolloutsWithDrift: number;
    /** Rollouts with at least one break of each cause, and how many breaks there were. */
    byCause: Partial<Record<DriftCause, { rollouts: number; breaks: number }>>;
  };
  /** Null for exports that carry no tokens (SFT). */
  tokens: (TokenSavings & { mergedOverTree: number; perCallOverTree: number }) | null;
  /** Exported rollouts that span more than one segment (several rows each). */
  multiSegmentRollouts: number;
  /** Calls whose recorded `extendsParent` disagreed with their ids. */
  hintMismatches: number;
  /** Exported rollouts with a call that returned no logprobs (their rows' logprobs are null where a target allows it). */
  withoutLogprobs: number;
  warnings: string[];
}

const EXAMPLES = 3;

export function addSkip(summary: ExportSummary, reason: string, example: string): void {
  const entry = (summary.rollouts.skipped[reason] ??= { count: 0, examples: [] });
  entry.count++;
  if (entry.examples.length < EXAMPLES) entry.examples.push(example);
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}

function plural(count: number, word: string): string {
  return `${n(count)} ${word}${count === 1 ? '' : 's'}`;
}

export function renderSummary(s: ExportSummary): string {
  const lines: string[] = [];
  const where = s.output ?? 'stdout';
  lines.push(`exported ${n(s.rows)} rows (${s.target} ${s.variant}, ${s.format}) from ${n(s.rollouts.exported)} of ${n(s.rollouts.total)} rollouts of run ${s.runId} → ${where}`);
  const skipped = Object.entries(s.rollouts.skipped);
  if (skipped.length > 0) {
    lines.push(`skipped ${n(skipped.reduce((a, [, v]) => a + v.count, 0))} rollouts:`);
    for (const [reason, { count, examples }] of skipped) {
      lines.push(`  ${reason}: ${n(count)}`);
      for (const example of examples) lines.push(`    ${example}`);
    }
  }
  const by = s.groups.groupBy === 'task' ? 'by task' : 'by group id, else task and seed';
  lines.push(`groups: ${n(s.groups.count)} (${by}; ${s.groups.method} advantages; largest ${s.groups.largest})${s.groups.singletons ? `, ${n(s.groups.singletons)} with one rollout (advantage 0)` : ''}${s.groups.uniform ? `, ${n(s.groups.uniform)} whose rollouts all got one reward (advantage 0)` : ''}`);
  const causes = Object.entries(s.drift.byCause).filter(([cause]) => cause !== 'context_reset');
  const drift = causes.map(([cause, v]) => `${cause} ${v.rollouts} (${plural(v.breaks, 'break')})`).join(', ');
  // Drift is a property of token ids: exports without them (SFT) have none to report.
  if (s.tokens) lines.push(`template drift: ${n(s.drift.rolloutsWithDrift)} of ${n(s.rollouts.exported)} rollouts${drift ? ` — ${drift}` : ''}`);
  const resets = s.drift.byCause.context_reset;
  if (resets) lines.push(`context resets (summaries, sub-agents, fresh contexts): ${n(resets.breaks)} in ${plural(resets.rollouts, 'rollout')}`);
  if (s.tokens) {
    const t = s.tokens;
    lines.push(
      `tokens: one sample per call ${n(t.perCallTokens)} · merged segments ${n(t.mergedTokens)} · prefix tree ${n(t.treeTokens)} (merged ${t.mergedOverTree.toFixed(2)}×, per call ${t.perCallOverTree.toFixed(2)}× the tree)`,
    );
  }
  for (const warning of s.warnings) lines.push(`warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}
