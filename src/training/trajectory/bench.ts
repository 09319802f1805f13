// The prefix-merging benchmark: how many tokens a trainer processes for 10-, 30- and 100-turn
// trajectories when turns are merged into segments, against one sample per turn, relative to the
// unique tokens (the size of the token trie over every call's prompt + completion).
import { createRng, type RolloutId, type RunId } from '../../core/index.ts';
import { assembleTrajectory } from './assemble.ts';
import { buildPrefixTree } from './prefix-tree.ts';
import { randomIds, syntheticConversation } from './synthetic.ts';

export interface PrefixMergingCase {
  turns: number;
  /** Tokens in the trie over all of one trajectory's calls: the least any trainer must process. */
  uniqueTokens: number;
  /** One sample per call (prompt + completion each): what step-wise training processes. */
  perCallTokens: number;
  /** Merged segments (one for a drift-free trajectory). */
  mergedTokens: number;
  mergedRatio: number;
  perCallRatio: number;
  /** A group of rollouts of the same task sharing the first prompt: merged segments vs the prefix tree across them. */
  groupSize: number;
  groupMergedTokens: number;
  groupTreeTokens: number;
}

export interface PrefixMergingOptions {
  turns?: readonly number[];
  groupSize?: number;
  seed?: number;
  /** Length of the shared first prompt (system prompt, tools, task). */
  promptTokens?: number;
}

export function prefixMergingBench(options: PrefixMergingOptions = {}): PrefixMergingCase[] {
  const groupSize = options.groupSize ?? 8;
  return (options.turns ?? [10, 30, 100]).map((turns) => {
    const rng = createRng(`prefix-bench:${options.seed ?? 1}:${turns}`);
    const firstPrompt = randomIds(rng, options.promptTokens ?? 1500);
    let groupMergedTokens = 0;
    const groupSegments: number[][] = [];
    let single: Omit<PrefixMergingCase, 'groupSize' | 'groupMergedTokens' | 'groupTreeTokens'> | undefined;
    for (let member = 0; member < groupSize; member++) {
      const calls = syntheticConversation({ runId: 'run_bench' as RunId, rolloutId: `ro_bench_${member}` as RolloutId, turns, rng: rng.fork(`member ${member}`), firstPrompt });
      const assembled = assembleTrajectory(calls);
      if (!assembled.ok) throw new Error(`bench trajectory did not assemble: ${assembled.detail}`);
      const { segments, perCallTokens } = assembled.trajectory;
      const mergedTokens = segments.reduce((n, s) => n + s.tokenIds.length, 0);
      groupMergedTokens += mergedTokens;
      for (const s of segments) groupSegments.push(s.tokenIds);
      if (!single) {
        const perCall = calls.map((c) => [...(c.response?.tokens?.promptIds ?? []), ...(c.response?.tokens?.completionIds ?? [])]);
        const uniqueTokens = buildPrefixTree(perCall).uniqueTokens;
        single = { turns, uniqueTokens, perCallTokens, mergedTokens, mergedRatio: mergedTokens / uniqueTokens, perCallRatio: perCallTokens / uniqueTokens };
      }
    }
    const groupTreeTokens = buildPrefixTree(groupSegments).uniqueTokens;
    return { ...(single as NonNullable<typeof single>), groupSize, groupMergedTokens, groupTreeTokens };
  });
}

/** The same figures in the shape `npm run bench` prints (bench/types.ts BenchFigure). */
export interface PrefixMergingFigure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  note?: string;
}

export function prefixMergingFigures(options: PrefixMergingOptions = {}): PrefixMergingFigure[] {
  return prefixMergingBench(options).flatMap((c) => [
    {
      name: `${c.turns}-turn trajectory, training tokens after prefix merging`,
      value: c.mergedTokens,
      unit: 'tokens',
      baseline: { name: 'unique tokens', value: c.uniqueTokens, unit: 'tokens' },
      ratio: c.mergedRatio,
      note: `per-turn samples: ${c.perCallTokens.toLocaleString('en-US')} tokens (${c.perCallRatio.toFixed(1)}×)`,
    },
    {
      name: `${c.turns}-turn trajectories, group of ${c.groupSize} as a prefix tree`,
      value: c.groupTreeTokens,
      unit: 'tokens',
      baseline: { name: 'merged segments', value: c.groupMergedTokens, unit: 'tokens' },
      ratio: c.groupTreeTokens / c.groupMergedTokens,
      note: 'the shared first prompt is computed once',
    },
  ]);
}
