import { z } from 'zod';
import { describeZodIssues, parseInput } from '../core/index.ts';
import { compareReports } from './compare.ts';
import type { Comparison } from './compare.ts';
import { fixed, pValueText } from './format.ts';
import { OVERALL } from './report.ts';
import type { EvalReport, GroupStats, ModelReport } from './schema.ts';

const Rate = z.number('a number between 0 and 1').min(0, 'must be at least 0').max(1, 'must be at most 1');

/** Unknown keys are usually typos; say which keys would have been accepted. */
function onlyKeys(keys: readonly string[]) {
  return {
    error: (issue: { code?: string; keys?: string[] }) =>
      issue.code === 'unrecognized_keys' ? `unknown key ${(issue.keys ?? []).map((k) => `"${k}"`).join(', ')} (expected ${keys.join(', ')})` : undefined,
  };
}

const ruleShape = {
  /** The pass rate (mean over tasks of each task's pass rate, `passRate` of the report) must be at least this. */
  minPassRate: Rate.optional(),
  /** The pass rate may be at most this much below the baseline's. */
  maxDrop: Rate.optional(),
  /** Enforce maxDrop only when the paired comparison finds the baseline significantly better. */
  onlySignificantDrops: z.boolean('true or false').default(false),
};

export const GateRule = z
  .strictObject(ruleShape, onlyKeys(Object.keys(ruleShape)))
  .refine((rule) => rule.minPassRate !== undefined || rule.maxDrop !== undefined, 'a rule needs minPassRate, maxDrop or both');
export type GateRule = z.infer<typeof GateRule>;

const suiteShape = {
  overall: GateRule.optional(),
  /** Rules for named domains; a named domain must also meet `everyDomain`. */
  domains: z.record(z.string().min(1, 'a domain name'), GateRule).default({}),
  /** The rule for every domain of the report, including those with their own entry in `domains`. */
  everyDomain: GateRule.optional(),
};

/** The `gate:` section of a suite file. */
export const GateSuite = z.strictObject(suiteShape, onlyKeys(Object.keys(suiteShape)));
export type GateSuite = z.infer<typeof GateSuite>;
export type GateSuiteInput = z.input<typeof GateSuite>;

export type GateParse = { ok: true; gate: GateSuite } | { ok: false; message: string };

/** Parses a suite file's `gate:` section; `file` names the file in the message. */
export function parseGateSuite(value: unknown, file: string): GateParse {
  const result = GateSuite.safeParse(value);
  if (result.success) return { ok: true, gate: result.data };
  return { ok: false, message: `${file}: invalid gate section\n${describeZodIssues(result.error.issues, 'gate')}` };
}

/**
 * Rates are means of fractions, so a rate of exactly 0.7 can come out as 0.6999999999999998 and a
 * drop of exactly 0.1 as 0.10000000000000009; a threshold is missed only beyond this slack.
 */
const SLACK = 1e-9;

/** Where in the gate section a rule came from. */
export type GateRuleSource = 'overall' | `domains.${string}` | 'everyDomain';

export interface GateFailure {
  runId: string;
  model: string;
  /** `overall` or a domain. */
  domain: string;
  source: GateRuleSource;
  rule: 'minPassRate' | 'maxDrop' | 'noData';
  /** The pass rate (minPassRate) or the drop from the baseline (maxDrop); null for noData. */
  actual: number | null;
  /** The minimum pass rate, or the largest drop allowed. */
  required: number;
  message: string;
}

/** A rule that was not enforced, and why (no baseline, a drop that is not significant …). */
export interface GateSkip {
  runId: string;
  model: string;
  domain: string;
  source: GateRuleSource;
  rule: 'maxDrop';
  reason: string;
}

export interface GateResult {
  passed: boolean;
  failures: GateFailure[];
  skipped: GateSkip[];
}

export interface CheckGateOptions {
  report: EvalReport;
  /** The report to measure drops against; matched by model name, or its only model. */
  baseline?: EvalReport;
  thresholds: GateSuiteInput;
}

/** Checks every model of the report against the thresholds. A rule with no data fails: nothing is passed unseen. */
export function checkGate(options: CheckGateOptions): GateResult {
  const gate = parseInput(GateSuite, options.thresholds, 'gate thresholds');
  const failures: GateFailure[] = [];
  const skipped: GateSkip[] = [];
  for (const model of options.report.models) {
    const base = options.baseline ? baselineFor(options.baseline, model) : null;
    let comparison: Comparison | null = null;
    const compare = (): Comparison => {
      comparison ??= compareReports({ a: model, b: base as ModelReport, seed: options.report.options.seed, resamples: options.report.options.resamples, alpha: options.report.options.alpha });
      return comparison;
    };
    for (const { domain, rule, source } of rulesFor(gate, model)) {
      const who = { runId: model.runId, model: model.model, domain, source };
      const from = `(gate ${source})`;
      const stats = domain === OVERALL ? model.overall : ownGroup(model.domains, domain);
      if (!stats?.passRate) {
        const required = rule.minPassRate ?? rule.maxDrop ?? 0;
        const why = stats ? 'has no scored tasks' : 'is in the gate but not in the report';
        failures.push({ ...who, rule: 'noData', actual: null, required, message: `${model.model}: ${domain} ${why}, so its gate cannot pass ${from}` });
        continue;
      }
      const rate = stats.passRate.mean;
      if (rule.minPassRate !== undefined && rate < rule.minPassRate - SLACK) {
        failures.push({ ...who, rule: 'minPassRate', actual: rate, required: rule.minPassRate, message: `${model.model}: ${domain} pass rate ${fixed(rate, 3)} is below the minimum ${rule.minPassRate} ${from}` });
      }
      if (rule.maxDrop === undefined) continue;
      const skip = (reason: string) => skipped.push({ ...who, rule: 'maxDrop', reason });
      if (!options.baseline) {
        skip('no baseline report given');
        continue;
      }
      if (!base) {
        skip(`the baseline has several models and none is named ${model.model}`);
        continue;
      }
      const baseStats: GroupStats | undefined = domain === OVERALL ? base.overall : ownGroup(base.domains, domain);
      if (!baseStats?.passRate) {
        skip(`the baseline has no scored tasks in ${domain}`);
        continue;
      }
      // A baseline of another suite (or domain) measures other tasks: no drop can be read from it.
      if (!sharesScoredTask(model, base, domain)) {
        skip(`the baseline shares no scored task with the report in ${domain} (is it a report of another suite?)`);
        continue;
      }
      const drop = baseStats.passRate.mean - rate;
      if (drop <= rule.maxDrop + SLACK) continue;
      if (rule.onlySignificantDrops) {
        const row = domain === OVERALL ? compare().overall : compare().domains[domain];
        if (row?.verdict !== 'B better') {
          skip(`drop of ${fixed(drop, 3)} exceeds ${rule.maxDrop} but is not significant (p=${pValueText(row?.pAdjusted ?? null)}, ${row?.verdict ?? 'no paired tasks'})`);
          continue;
        }
      }
      failures.push({
        ...who,
        rule: 'maxDrop',
        actual: drop,
        required: rule.maxDrop,
        message: `${model.model}: ${domain} pass rate dropped ${fixed(drop, 3)} from the baseline's ${fixed(baseStats.passRate.mean, 3)}; at most ${rule.maxDrop} is allowed ${from}`,
      });
    }
  }
  return { passed: failures.length === 0, failures, skipped };
}

/**
 * Every rule that applies to a model: `overall`, each named domain's own rule (a domain the report
 * lacks fails as noData), and `everyDomain` for every domain of the report, on top of its own rule.
 */
function rulesFor(gate: GateSuite, model: ModelReport): Array<{ domain: string; rule: GateRule; source: GateRuleSource }> {
  const out: Array<{ domain: string; rule: GateRule; source: GateRuleSource }> = [];
  if (gate.overall) out.push({ domain: OVERALL, rule: gate.overall, source: 'overall' });
  for (const domain of [...new Set([...Object.keys(model.domains), ...Object.keys(gate.domains)])].sort()) {
    const own = Object.hasOwn(gate.domains, domain) ? gate.domains[domain] : undefined;
    if (own) out.push({ domain, rule: own, source: `domains.${domain}` });
    if (gate.everyDomain && Object.hasOwn(model.domains, domain)) out.push({ domain, rule: gate.everyDomain, source: 'everyDomain' });
  }
  return out;
}

/** A domain's entry, never an Object.prototype member: a domain may be called "constructor". */
function ownGroup<T>(groups: Record<string, T>, domain: string): T | undefined {
  return Object.hasOwn(groups, domain) ? groups[domain] : undefined;
}

function sharesScoredTask(model: ModelReport, base: ModelReport, domain: string): boolean {
  const inGroup = (t: { domain: string; scored: number }) => t.scored > 0 && (domain === OVERALL || t.domain === domain);
  const ids = new Set(base.tasks.filter(inGroup).map((t) => t.id));
  return model.tasks.some((t) => inGroup(t) && ids.has(t.id));
}

/** Task ids the two reports both scored for some model; an empty list means the baseline is of other tasks. */
export function sharedScoredTasks(report: EvalReport, baseline: EvalReport): string[] {
  const ids = new Set(baseline.models.flatMap((m) => m.tasks.filter((t) => t.scored > 0).map((t) => t.id)));
  return [...new Set(report.models.flatMap((m) => m.tasks.filter((t) => t.scored > 0 && ids.has(t.id)).map((t) => t.id)))];
}

function baselineFor(baseline: EvalReport, model: ModelReport): ModelReport | null {
  return baseline.models.find((m) => m.model === model.model) ?? (baseline.models.length === 1 ? (baseline.models[0] ?? null) : null);
}
