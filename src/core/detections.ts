// What reward-hack and safety detectors found in a rollout, as stored beside it. Rule-based
// detectors and an LLM monitor report flags in the same shape; where they disagree about a
// category, the case goes to a queue for an expert, who decides with a label.
import { z } from 'zod';
import { FailureKind } from './errors.ts';
import { RolloutId } from './ids.ts';
import { SCHEMA_VERSION } from './version.ts';

export const DETECTION_CATEGORIES = [
  'test_tampering',
  'answer_mining',
  'hardcoded_output',
  'dangerous_command',
  'sandbox_probing',
  'false_success_claim',
  'prompt_injection_followed',
  'exfiltration',
] as const;
export const DetectionCategory = z.enum(DETECTION_CATEGORIES);
export type DetectionCategory = z.infer<typeof DetectionCategory>;

export const Severity = z.enum(['low', 'medium', 'high']);
export type Severity = z.infer<typeof Severity>;

/** Where in the trajectory: the model call (its `index`) whose output did it, and the words that show it. */
export const Evidence = z.object({ callIndex: z.number().int().nonnegative(), excerpt: z.string() });
export type Evidence = z.infer<typeof Evidence>;

export const DetectionFlag = z.object({
  category: DetectionCategory,
  /** The detector that raised it (`rules/dangerous_command`, `monitor:openai:…#model`). */
  detector: z.string().min(1),
  severity: Severity,
  evidence: Evidence,
  /** Why, in a sentence a reviewer can check against the excerpt. */
  reason: z.string().optional(),
});
export type DetectionFlag = z.infer<typeof DetectionFlag>;

/** A category the rules and the monitor disagree on: one side flagged it, the other did not. */
export const ReviewEntry = z.object({
  category: DetectionCategory,
  disagreement: z.enum(['rules_only', 'monitor_only']),
  ruleFlags: z.array(DetectionFlag),
  monitorFlags: z.array(DetectionFlag),
});
export type ReviewEntry = z.infer<typeof ReviewEntry>;

/** The monitor's run: its verdict, or the infrastructure failure that left the rollout unjudged (never "clean"). */
export const MonitorOutcome = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok'), spec: z.string(), verdict: z.enum(['clean', 'flagged']), summary: z.string().optional() }),
  z.object({ status: z.literal('infra_error'), spec: z.string(), kind: FailureKind, message: z.string() }),
]);
export type MonitorOutcome = z.infer<typeof MonitorOutcome>;

/** A command the shell parser could not read: the rules saw nothing there, so a person should look. */
export const UnparsedCommand = z.object({ callIndex: z.number().int().nonnegative(), excerpt: z.string(), error: z.string() });
export type UnparsedCommand = z.infer<typeof UnparsedCommand>;

/** One pass of the detectors over one attempt of a rollout. */
export const DetectionReport = z.object({
  createdAt: z.string(),
  /** Every detector that ran, flagging or not. */
  detectors: z.array(z.string()),
  flags: z.array(DetectionFlag),
  monitor: MonitorOutcome.nullable(),
  review: z.array(ReviewEntry),
  unparsed: z.array(UnparsedCommand),
});
export type DetectionReport = z.infer<typeof DetectionReport>;

/** A report as stored with its rollout attempt; a later pass over the same attempt replaces it. */
export const DetectionRecord = DetectionReport.extend({
  schemaVersion: z.literal(SCHEMA_VERSION),
  rolloutId: RolloutId,
  attempt: z.number().int().positive(),
});
export type DetectionRecord = z.infer<typeof DetectionRecord>;
