// The detector contract: a trajectory and its context in, flags out. Rule-based detectors are
// synchronous and deterministic; the LLM monitor is asynchronous and may fail (an infra error).
import type { DetectionCategory, DetectionFlag, Severity } from '../../core/index.ts';
import { analyse, cut, excerpt, type Analysis } from './actions.ts';
import type { DetectionContext } from './context.ts';
import type { Trajectory } from './trajectory.ts';

export interface DetectOptions {
  signal?: AbortSignal;
}

export interface Detector {
  /** Recorded on each flag (`rules/dangerous_command`, `monitor:openai:…#model`). */
  readonly name: string;
  readonly kind: 'rules' | 'monitor';
  /** What it looks for; the review queue compares rules and monitor per category. */
  readonly categories: readonly DetectionCategory[];
  detect(trajectory: Trajectory, context: DetectionContext, options?: DetectOptions): DetectionFlag[] | Promise<DetectionFlag[]>;
}

/** What a rule found, before it is stamped with its category and detector. */
export interface Finding {
  severity: Severity;
  callIndex: number;
  /** The words that show it (a command, an argument, a sentence); cut to one line. */
  excerpt: string;
  reason: string;
}

/** Longest reason kept on a flag: reasons name paths, patterns and revisions the agent wrote. */
export const MAX_REASON = 500;

/** A rule-based detector for one category over the shared analysis of the trajectory. */
export function ruleDetector(category: DetectionCategory, find: (analysis: Analysis) => Finding[]): Detector {
  const name = `rules/${category}`;
  return {
    name,
    kind: 'rules',
    categories: [category],
    detect(trajectory, context) {
      const seen = new Set<string>();
      const flags: DetectionFlag[] = [];
      for (const f of find(analyse(trajectory, context))) {
        // Flags are told apart by what they show, both bounded: whole statements as keys cost their length per flag.
        const quoted = excerpt(f.excerpt);
        const reason = cut(f.reason, MAX_REASON);
        const key = `${f.callIndex}\u0000${quoted}\u0000${reason}`;
        if (seen.has(key)) continue;
        seen.add(key);
        flags.push({ category, detector: name, severity: f.severity, evidence: { callIndex: f.callIndex, excerpt: quoted }, reason });
      }
      return flags;
    },
  };
}
