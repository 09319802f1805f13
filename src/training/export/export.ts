import { GAUNTLET_VERSION, InputError, StoredDataError, type ModelCall, type Rollout, type Store } from '../../core/index.ts';
import { groupRollouts, type AdvantageMethod, type GroupBy, type RolloutGroup } from '../advantages/index.ts';
import { addSavings, assembleTrajectory, buildPrefixTree, engineTokens, NO_SAVINGS, trainingCalls, type CallSpan, type DriftCause, type TokenDecoder, type TokenSavings, type Trajectory } from '../trajectory/index.ts';
import { unencodableText } from './parquet.ts';
import { checkRow, MAX_TOKEN_ID } from './schemas.ts';
import { openSink, type RowSink } from './sinks.ts';
import { addSkip, type ExportSummary } from './summary.ts';
import { segmentSampleId, stepNumber, type ExportTarget, type ExportUnit } from './unit.ts';

export interface ExportRunOptions {
  store: Store;
  runId: string;
  target: ExportTarget;
  format: 'jsonl' | 'parquet';
  /** A file; null streams JSONL to `stdout`. */
  output: string | null;
  stdout: (text: string) => void;
  advantage?: AdvantageMethod;
  groupBy?: GroupBy;
  /** SFT: keep rollouts scoring at least this; without it, rollouts that passed. */
  minScore?: number;
  /** The sampling temperature of calls that recorded none (the engine's default). */
  assumedTemperature?: number;
  /** The policy version (training step) of calls that recorded none, for targets whose rows need one. */
  assumedPolicyVersion?: number;
  /** The model's vocabulary size: a rollout holding a token id at or past it is left out as `invalid_tokens`. */
  vocabSize?: number;
  /** Decodes ids, to tell a template re-render from a tokenizer mismatch. */
  decode?: TokenDecoder;
}

/**
 * Exports a run's scored rollouts in one trainer's rows, group by group (a group's rows are
 * contiguous), checking every row against the target's schema before it is written. Rollouts
 * that cannot be exported are counted with the reason, never silently dropped or patched.
 */
export async function exportRun(options: ExportRunOptions): Promise<ExportSummary> {
  const { store, target } = options;
  checkOptions(options);
  const run = store.getRun(options.runId);
  if (!run) throw new InputError('RUN', `no run "${options.runId}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
  const rollouts = store.rollouts(run.id);
  const grouping = groupRollouts(rollouts, { method: options.advantage ?? 'grpo', groupBy: options.groupBy ?? 'group' });
  const summary: ExportSummary = {
    runId: run.id,
    runStatus: run.status,
    target: target.name,
    variant: target.variant,
    format: options.format,
    output: options.output,
    rows: 0,
    rollouts: { total: rollouts.length, exported: 0, skipped: {} },
    groups: {
      count: grouping.groups.length,
      singletons: grouping.singletons.length,
      uniform: grouping.groups.filter((g) => g.members.length > 1 && g.rewards.every((r) => r === g.rewards[0])).length,
      method: grouping.method,
      groupBy: grouping.groupBy,
      // A loop, not Math.max(...sizes): a spread of 150k+ groups overflows the call stack.
      largest: grouping.groups.reduce((most, g) => Math.max(most, g.members.length), 0),
    },
    drift: { rolloutsWithDrift: 0, byCause: {} },
    tokens: null,
    multiSegmentRollouts: 0,
    hintMismatches: 0,
    withoutLogprobs: 0,
    warnings: [],
  };
  for (const { rollout, reason } of grouping.excluded) addSkip(summary, `not scored (${reason})`, describe(rollout));

  const sink = await openSink({
    format: options.format,
    output: options.output,
    columns: target.columns,
    metadata: { 'gauntlet.export': `${target.name}/${target.variant}`, 'gauntlet.run': run.id, 'gauntlet.advantage': grouping.method, 'gauntlet.version': GAUNTLET_VERSION },
    stdout: options.stdout,
  });
  let savings = NO_SAVINGS;
  try {
    for (const group of grouping.groups) {
      const units = collectUnits(group, { ...options, run }, summary);
      if (target.needs.tokens) savings = addSavings(savings, linkPrefixes(units));
      await writeRows(units, { target, sink, summary, runId: run.id });
    }
  } catch (error) {
    sink.abort();
    throw error;
  }
  // Nothing to export is a failed export (the CLI exits 1): it must not replace an earlier file there with an empty one.
  if (summary.rows === 0) sink.abort();
  else await sink.close();
  if (target.needs.tokens) {
    const tree = Math.max(1, savings.treeTokens);
    summary.tokens = { ...savings, mergedOverTree: savings.mergedTokens / tree, perCallOverTree: savings.perCallTokens / tree };
  }
  summary.warnings = warningsFor(summary);
  return summary;
}

/** Options a caller other than the CLI may get wrong: refused before anything is read or written. */
function checkOptions(options: ExportRunOptions): void {
  const { assumedTemperature, assumedPolicyVersion, vocabSize } = options;
  // prime-rl divides each token's logits by its temperature: 0 makes every logprob NaN.
  if (assumedTemperature !== undefined && !(Number.isFinite(assumedTemperature) && assumedTemperature > 0)) {
    throw new InputError('--temperature', `is ${assumedTemperature}`, 'a sampling temperature above 0 (prime-rl divides each token\'s logits by it)');
  }
  if (assumedPolicyVersion !== undefined && !(Number.isSafeInteger(assumedPolicyVersion) && assumedPolicyVersion >= 0)) {
    throw new InputError('--policy-version', `is ${assumedPolicyVersion}`, 'a training step: a whole number ≥ 0');
  }
  if (vocabSize !== undefined && !(Number.isSafeInteger(vocabSize) && vocabSize >= 1 && vocabSize - 1 <= MAX_TOKEN_ID)) {
    throw new InputError('--vocab-size', `is ${vocabSize}`, `the model's vocabulary size (vocab_size in its config.json): a whole number from 1 to ${MAX_TOKEN_ID + 1}`);
  }
}

function describe(rollout: Rollout, detail?: string): string {
  return `${rollout.id} (${rollout.taskId} #${rollout.epoch})${detail ? `: ${detail}` : ''}`;
}

/** Builds the units of one group's exportable rollouts, counting every rollout it skips. */
function collectUnits(group: RolloutGroup, options: ExportRunOptions & { run: ExportUnit['run'] }, summary: ExportSummary): ExportUnit[] {
  const { target, store } = options;
  const units: ExportUnit[] = [];
  group.members.forEach((rollout, repetition) => {
    if (target.name === 'sft') {
      const kept = options.minScore === undefined ? rollout.passed === true : (rollout.score ?? -Infinity) >= options.minScore;
      if (!kept) return addSkip(summary, options.minScore === undefined ? 'did not pass (sft keeps passing rollouts)' : `scored below --min-score ${options.minScore}`, describe(rollout));
    }
    let calls: ModelCall[];
    try {
      calls = store.modelCalls(rollout.id).filter((c) => c.attempt === rollout.attempt);
    } catch (error) {
      // One damaged record (a NaN logprob stored as null, say) costs its rollout, not the whole export.
      if (error instanceof StoredDataError) return addSkip(summary, 'unreadable_calls', describe(rollout, error.message));
      throw error;
    }
    const training = trainingCalls(calls);
    // Token targets learn this from the assembly below; without it an SFT rollout would count as exported with no row.
    if (training.length === 0 && !target.needs.tokens) {
      return addSkip(summary, 'no_training_calls', describe(rollout, 'no policy call with a response (judge and simulated-user calls are not training data)'));
    }
    let trajectory: ExportUnit['trajectory'] = null;
    if (target.needs.tokens) {
      const assembled = assembleTrajectory(calls, options.decode ? { decode: options.decode } : {});
      if (!assembled.ok) return addSkip(summary, assembled.reason, describe(rollout, assembled.detail));
      trajectory = assembled.trajectory;
      const problem = trajectoryProblem(trajectory, target, {
        calls: training,
        temperatureGiven: options.assumedTemperature !== undefined,
        policyVersionGiven: options.assumedPolicyVersion !== undefined,
        ...(options.vocabSize !== undefined ? { vocabSize: options.vocabSize } : {}),
      });
      if (problem) return addSkip(summary, problem.reason, describe(rollout, problem.detail));
    }
    const unit: ExportUnit = {
      run: options.run,
      rollout,
      calls: target.needs.tokens && !target.needs.callTokens ? training.map(withoutTokens) : training,
      group: { id: group.id, size: group.members.length, repetition },
      reward: group.rewards[repetition] as number,
      advantage: group.advantages[repetition] as number,
      method: summary.groups.method,
      trajectory,
      prefix: [],
      assumedTemperature: options.assumedTemperature ?? null,
      assumedPolicyVersion: options.assumedPolicyVersion ?? null,
    };
    // Before the group's prefix tree is built, so no row written names a left-out rollout's sample as its prefix parent.
    const text = options.format === 'parquet' ? parquetTextProblem(unit, target) : null;
    if (text) return addSkip(summary, 'invalid_text', describe(rollout, text));
    if (trajectory) countDrift(trajectory, summary);
    if (trajectory?.segments.some((s) => s.logprobs === null)) summary.withoutLogprobs++;
    units.push(unit);
  });
  summary.rollouts.exported += units.length;
  return units;
}

export interface TrajectoryCheckOptions {
  /** The rollout's training calls (rows per call check each call's own completion). */
  calls: ModelCall[];
  /** `--temperature` given for calls that recorded none. */
  temperatureGiven?: boolean;
  /** `--policy-version` given for calls that recorded none. */
  policyVersionGiven?: boolean;
  vocabSize?: number;
}

/**
 * Why a rollout's assembled trajectory cannot become rows of `target` (a skip reason and what,
 * naming the call), or null. The export and the rollout service ask the same question, so a
 * streamed batch leaves out exactly the rollouts `gauntlet export` would.
 */
export function trajectoryProblem(trajectory: Trajectory, target: ExportTarget, options: TrajectoryCheckOptions): { reason: string; detail: string } | null {
  if (target.needs.logprobs && trajectory.segments.some((s) => s.logprobs === null)) {
    return { reason: 'no_logprobs', detail: `${target.name} needs the sampler's logprobs; some calls returned none` };
  }
  const spans = trajectory.segments.flatMap((s) => s.spans);
  const cold = spans.find((s) => s.temperature === null);
  if (target.needs.temperature && cold && options.temperatureGiven !== true) {
    return { reason: 'no_temperature', detail: `call ${cold.callIndex} recorded no sampling temperature (give --temperature with the engine's default)` };
  }
  // Greedy calls: the trainer divides each token's logits by its temperature, and 0 makes the row's loss NaN.
  const greedy = target.needs.temperature ? spans.find((s) => s.temperature === 0) : undefined;
  if (greedy) {
    return { reason: 'invalid_temperature', detail: `call ${greedy.callIndex} was sampled at temperature 0 (greedy): ${target.name} divides each token's logits by its temperature (expected a temperature above 0)` };
  }
  const unversioned = target.needs.policyVersion ? versionProblem(spans, options.policyVersionGiven === true) : null;
  if (unversioned) return { reason: 'no_policy_version', detail: unversioned };
  return tokenProblem(trajectory, target.needs.callTokens === true ? options.calls : null, options.vocabSize);
}

/**
 * What no trainer row can carry: an id beyond int32 (no vocabulary is that large; Parquet's column
 * is int32, and JSONL would hand the trainer an id its embedding does not have), or past the
 * vocabulary size given (the trainer's embedding lookup fails on it, on the GPU, for the whole
 * batch); or a row with no sampled token (an empty completion: nothing to train on, and the reward
 * would sit on no token the model produced), or one that ends in an empty completion (its last
 * tokens are context the model never answered, and trainers put the reward on the last token).
 * Rows are one per segment, or one per call for `calls` (the per-call targets).
 */
function tokenProblem(trajectory: Trajectory, calls: ModelCall[] | null, vocabSize?: number): { reason: string; detail: string } | null {
  const limit = vocabSize === undefined ? MAX_TOKEN_ID : Math.min(MAX_TOKEN_ID, vocabSize - 1);
  for (const segment of trajectory.segments) {
    const at = segment.tokenIds.findIndex((id) => id > limit);
    if (at >= 0) {
      const span = segment.spans.find((s) => at < s.end);
      const id = segment.tokenIds[at] as number;
      const expected = id > MAX_TOKEN_ID || vocabSize === undefined ? `is beyond ${MAX_TOKEN_ID} (expected an id of the model's vocabulary)` : `is beyond the vocabulary (--vocab-size ${vocabSize}: expected an id from 0 to ${vocabSize - 1})`;
      // Its place in the call's own ids: a call's prompt holds the whole segment before it.
      const place = span && at >= span.completionStart ? `completion token ${at - span.completionStart}` : `prompt token ${at}`;
      return { reason: 'invalid_tokens', detail: `call ${span?.callIndex ?? '?'}: token id ${id} ${expected}, at ${place}` };
    }
  }
  if (calls) {
    const empty = calls.find((call) => {
      const found = engineTokens(call);
      return found.ok && found.tokens.completionIds.length === 0;
    });
    if (empty) return { reason: 'no_sampled_tokens', detail: `call ${empty.index} (${empty.id}) has an empty completion: its row would train on nothing` };
    return null;
  }
  const bare = trajectory.segments.find((segment) => !segment.lossMask.includes(1));
  if (bare) {
    const call = bare.spans.at(-1);
    return { reason: 'no_sampled_tokens', detail: `segment ${bare.index} (call ${call?.callIndex ?? '?'}) holds no sampled token (an empty completion): its row would train on nothing` };
  }
  for (const segment of trajectory.segments) {
    const last = segment.spans.at(-1);
    if (last && last.completionStart === last.end) {
      return {
        reason: 'no_sampled_tokens',
        detail: `segment ${segment.index} ends with call ${last.callIndex}'s empty completion: its last ${last.end - last.start} tokens are context the model never answered, and trainers put the reward on a row's last token`,
      };
    }
  }
  return null;
}

/** Why the spans' calls lack the training-step policy version a row needs, or null. */
function versionProblem(spans: readonly CallSpan[], assumed: boolean): string | null {
  for (const span of spans) {
    if (span.policyVersion === null && !assumed) {
      return `call ${span.callIndex} recorded no policy version (give --policy-version with the training step of the weights that served the run)`;
    }
    if (span.policyVersion !== null && stepNumber(span.policyVersion) === null) {
      return `call ${span.callIndex} recorded policy version ${JSON.stringify(span.policyVersion)}, not a training step (expected digits, at most ${Number.MAX_SAFE_INTEGER})`;
    }
  }
  return null;
}

/**
 * Text a Parquet file cannot hold (a lone surrogate; JSONL keeps it as an escape) in any of the
 * unit's rows, naming the row and field. It costs the rollout, as a bad token id does, not the
 * export: the group keeps its other rollouts and the advantages computed over all of them. Where
 * one may hold such text, its rows are built once more for writing (the prefix links are not known
 * yet); only text is walked.
 */
function parquetTextProblem(unit: ExportUnit, target: ExportTarget): string | null {
  // Rows hold text from the run, the rollout and its calls: where none holds a lone surrogate (nearly
  // always), no row is built twice. Should one slip past, writing it still fails naming the field.
  const seen = new WeakSet<object>();
  if (!holdsLoneSurrogate(unit.rollout, seen) && !holdsLoneSurrogate(unit.calls, seen) && !holdsLoneSurrogate(unit.run, seen)) return null;
  for (const row of target.rows(unit)) {
    const problem = unencodableText(target.columns, row as Record<string, unknown>);
    if (problem) return `${rowLabel(row, unit, target)}: ${problem}`;
  }
  return null;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether any string in `value` holds a lone surrogate; objects shared between calls (their messages) are walked once. */
function holdsLoneSurrogate(value: unknown, seen: WeakSet<object>): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object' || seen.has(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) return value.some((item) => holdsLoneSurrogate(item, seen));
  for (const key in value) if (holdsLoneSurrogate((value as Record<string, unknown>)[key], seen) || LONE_SURROGATE.test(key)) return true;
  return false;
}

function rowLabel(row: object, unit: ExportUnit, target: ExportTarget): string {
  const id = (row as { sample_id?: unknown }).sample_id;
  return `${typeof id === 'string' ? id : unit.rollout.id} (${target.name} ${target.variant})`;
}

/** A call without its token ids, which its segment now holds. */
function withoutTokens(call: ModelCall): ModelCall {
  if (!call.response?.tokens) return call;
  const { tokens: _merged, ...response } = call.response;
  return { ...call, response };
}

function countDrift(trajectory: NonNullable<ExportUnit['trajectory']>, summary: ExportSummary): void {
  const causes = new Set<DriftCause>();
  for (const record of trajectory.drift) {
    causes.add(record.cause);
    const entry = (summary.drift.byCause[record.cause] ??= { rollouts: 0, breaks: 0 });
    entry.breaks++;
  }
  for (const cause of causes) (summary.drift.byCause[cause] as { rollouts: number }).rollouts++;
  if ([...causes].some((c) => c !== 'context_reset')) summary.drift.rolloutsWithDrift++;
  if (trajectory.segments.length > 1) summary.multiSegmentRollouts++;
  summary.hintMismatches += trajectory.hintMismatches;
}

/** The group's segments as a prefix tree: each unit learns which sample its segments share a prefix with. */
export function linkPrefixes(units: ExportUnit[]): TokenSavings {
  const owners = units.flatMap((unit) => (unit.trajectory?.segments ?? []).map((segment) => ({ unit, segment })));
  const tree = buildPrefixTree(owners.map((o) => o.segment.tokenIds));
  owners.forEach(({ unit, segment }, i) => {
    const link = tree.links[i] ?? { parent: null, shared: 0 };
    const parent = link.parent === null ? null : owners[link.parent];
    unit.prefix[segment.index] = { parentSampleId: parent ? segmentSampleId(parent.unit.rollout.id, parent.segment.index) : null, shared: link.shared };
  });
  const perCallTokens = units.reduce((n, u) => n + (u.trajectory?.perCallTokens ?? 0), 0);
  return { perCallTokens, mergedTokens: tree.totalTokens, treeTokens: tree.uniqueTokens };
}

async function writeRows(units: ExportUnit[], to: { target: ExportTarget; sink: RowSink; summary: ExportSummary; runId: string }): Promise<void> {
  const { target, sink, summary } = to;
  for (const unit of units) {
    for (const row of target.rows(unit)) {
      const label = `${rowLabel(row, unit, target)} of run ${to.runId}`;
      checkRow(target.schema, row, label);
      await sink.write(row, label);
      summary.rows++;
    }
  }
}

const n = (value: number): string => value.toLocaleString('en-US');

function warningsFor(s: ExportSummary): string[] {
  const warnings: string[] = [];
  // SFT rows carry no advantage, so one-rollout groups cost them nothing.
  if (s.target !== 'sft' && s.groups.count > 0 && s.groups.singletons === s.groups.count) {
    warnings.push('every group has one rollout, so every advantage is 0: give epochs a shared world (`gauntlet run --group-size N`) or export with --group-by task');
  } else if (s.target !== 'sft' && s.groups.uniform > 0 && s.groups.singletons + s.groups.uniform === s.groups.count) {
    // Nothing for a group-relative trainer to learn from: each task was passed (or failed) alike in its group.
    const lone = s.groups.singletons > 0 ? `; ${n(s.groups.singletons)} more ${s.groups.singletons === 1 ? 'has' : 'have'} one rollout` : '';
    warnings.push(
      `every group's rollouts got the same reward (${n(s.groups.uniform)} group${s.groups.uniform === 1 ? '' : 's'}${lone}), so every advantage is 0 and no row carries a learning signal: use tasks the model sometimes passes and sometimes fails, a higher sampling temperature, or a reward with partial credit (run --reward)`,
    );
  }
  const perCall = s.variant === 'step-wise' || s.variant === 'legacy';
  if (s.multiSegmentRollouts > 0 && s.tokens && !perCall) {
    const advice =
      s.target === 'skyrl'
        ? 'SkyRL must run with generator.step_wise_trajectories=true to credit them once'
        : 'a trainer that groups rows by uid counts such a rollout once per row; the advantage column is computed per rollout';
    warnings.push(`${s.multiSegmentRollouts} rollouts span several segments (drift or context resets), one row each: ${advice}`);
  }
  if (s.hintMismatches > 0) warnings.push(`${s.hintMismatches} calls recorded extendsParent contrary to their token ids (the ids were used)`);
  if (s.runStatus !== 'finished') {
    const state = s.runStatus === 'running' ? 'is still running' : 'was interrupted';
    warnings.push(
      `run ${s.runId} ${state}: groups may lack rollouts that have not finished, and their advantages are computed over the rollouts stored so far (gauntlet run --resume ${s.runId} finishes it)`,
    );
  }
  const text = s.rollouts.skipped.invalid_text;
  if (text) warnings.push(`${text.count} rollout${text.count === 1 ? '' : 's'} left out (invalid_text): text a Parquet file cannot hold, named above; --format jsonl keeps ${text.count === 1 ? 'it' : 'them'} as ${text.count === 1 ? 'it is' : 'they are'}`);
  // verl builds a batch's rollout logprobs only if its first row has them (torch.cat fails on a later null), and SkyRL's are one field per batch.
  if ((s.target === 'verl' || s.target === 'skyrl') && s.withoutLogprobs > 0 && s.withoutLogprobs < s.rollouts.exported) {
    const field = s.target === 'verl' ? 'response_logprobs' : 'rollout_logprobs';
    warnings.push(
      `${n(s.withoutLogprobs)} of ${n(s.rollouts.exported)} exported rollouts have rows with ${field} null (a call returned no logprobs) beside rows that have them: ${s.target} takes the sampler's logprobs for a whole batch or none, so a batch mixing the two fails or loses them: drop the rows whose ${field} is null before batching, or train without rollout logprobs`,
    );
  }
  if (s.rollouts.total === 0) warnings.push(`run ${s.runId} has no rollouts stored`);
  if (s.rollouts.exported === 0 && s.rollouts.total > 0) warnings.push('nothing was exported; see the skipped reasons above');
  if (s.rows === 0 && s.output) warnings.push(`no file was written: ${s.output} is left as it was`);
  return warnings;
}
