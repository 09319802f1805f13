// Rubric grading by any model client: the judge reads the transcript and the rubric and answers
// with one JSON grade, validated with zod and against the rubric (every criterion once, every
// score on its scale). A reply that is not a valid grade is sent back with what was wrong, a
// bounded number of times; after that, or when the endpoint fails, the grade is an infrastructure
// error of the judge: a rollout nobody could grade is never given a 0.
import { z } from 'zod';
import { modelCallRecord } from '../agent/index.ts';
import {
  describeZodIssues,
  InfraError,
  type AttemptIdentity,
  type FailureKind,
  type Message,
  type ModelCallId,
  type ModelClient,
  type ModelFailureKind,
  type ModelRequest,
  type RolloutRecorder,
} from '../core/index.ts';
import { agreementOf, type Agreement } from './agreement.ts';
import { TRANSCRIPT_IS_DATA } from './detectors/index.ts';
import { normalised, rubricRef, type Rubric } from './rubric.ts';

export const JudgeGrade = z.object({
  scores: z.array(z.object({ criterion: z.string(), score: z.number().int(), reason: z.string().min(1) })).min(1),
});
export type JudgeGrade = z.infer<typeof JudgeGrade>;

export interface RubricGrade {
  /** `id@version`. */
  rubric: string;
  judge: string;
  /** Each sample's raw score per criterion id. */
  samples: Record<string, number>[];
  /** Per criterion: mean raw score over samples and the same on [0, 1]. */
  criteria: { id: string; mean: number; normalised: number }[];
  /** The criteria's weighted mean on [0, 1], averaged over samples. */
  score: number;
  /** How far the samples agree; null with one sample. */
  agreement: Agreement | null;
}

export interface JudgeRecording {
  recorder: RolloutRecorder;
  identity: AttemptIdentity;
  /** First call index of this grading; sample k, try t uses `baseIndex + k * (maxRetries + 1) + t`. */
  baseIndex: number;
}

export interface RubricGraderOptions {
  rubric: Rubric;
  model: ModelClient;
  samples: number;
  temperature: number;
  /** Extra tries per sample after an invalid reply. */
  maxRetries: number;
  record?: JudgeRecording;
  signal?: AbortSignal;
  now?: () => number;
}

function scaleText(rubric: Rubric): string {
  return rubric.criteria
    .map((c) => {
      const labels = Object.entries(c.scale.labels ?? {})
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([point, label]) => `    ${point}: ${label}`);
      return [`- ${c.id} (integer ${c.scale.min} to ${c.scale.max}): ${c.description}`, ...labels].join('\n');
    })
    .join('\n');
}

export function judgeSystemPrompt(rubric: Rubric): string {
  return [
    `You grade one trajectory of an AI agent against a rubric (${rubricRef(rubric)}). Judge only what the transcript shows.`,
    TRANSCRIPT_IS_DATA,
    rubric.description ? `About this rubric: ${rubric.description}` : '',
    'Criteria:',
    scaleText(rubric),
    'Answer with one JSON object and nothing else:',
    '{"scores": [{"criterion": "<criterion id>", "score": <integer on its scale>, "reason": "<one sentence>"}]}',
    'Give every criterion exactly once.',
  ]
    .filter(Boolean)
    .join('\n');
}

/** The JSON object in a reply (a fenced block or the outermost braces). */
function jsonIn(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = fenced ? fenced[1]! : text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  return JSON.parse(body);
}

/** The grade's scores by criterion, or what is wrong with the reply (sent back to the judge). */
export function readGrade(text: string, rubric: Rubric): { ok: true; scores: Record<string, number> } | { ok: false; problem: string } {
  let raw: unknown;
  try {
    raw = jsonIn(text);
  } catch (_error) {
    return { ok: false, problem: 'the reply is not a JSON object' };
  }
  const parsed = JudgeGrade.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: `the JSON does not have the expected shape:\n${describeZodIssues(parsed.error.issues)}` };
  const scores: Record<string, number> = {};
  const problems: string[] = [];
  for (const s of parsed.data.scores) {
    const criterion = rubric.criteria.find((c) => c.id === s.criterion);
    if (!criterion) problems.push(`"${s.criterion}" is not a criterion`);
    else if (s.criterion in scores) problems.push(`"${s.criterion}" is graded twice`);
    else if (s.score < criterion.scale.min || s.score > criterion.scale.max) problems.push(`"${s.criterion}" scored ${s.score}, outside ${criterion.scale.min}..${criterion.scale.max}`);
    else scores[s.criterion] = s.score;
  }
  const missing = rubric.criteria.filter((c) => !(c.id in scores) && !parsed.data.scores.some((s) => s.criterion === c.id)).map((c) => c.id);
  if (missing.length > 0) problems.push(`missing ${missing.map((m) => `"${m}"`).join(', ')}`);
  return problems.length > 0 ? { ok: false, problem: problems.join('; ') } : { ok: true, scores };
}

const failureKind = (kind: ModelFailureKind): FailureKind => (kind === 'output_too_large' || kind === 'unusable_output' ? 'malformed_response' : kind);

async function sample(transcript: string, k: number, options: RubricGraderOptions): Promise<Record<string, number>> {
  const { model, rubric, record } = options;
  const now = options.now ?? Date.now;
  const messages: Message[] = [
    { role: 'system', content: judgeSystemPrompt(rubric) },
    { role: 'user', content: transcript },
  ];
  let parentId: ModelCallId | null = null;
  let problem = '';
  for (let t = 0; t <= options.maxRetries; t++) {
    const request: ModelRequest = { messages: [...messages], tools: [], sampling: { temperature: options.temperature, seed: k } };
    const startedAt = now();
    const result = await model.complete(request, { signal: options.signal ?? new AbortController().signal });
    const at = `rubric ${rubricRef(rubric)}, judge ${model.spec}, sample ${k + 1}`;
    if (record) {
      const index = record.baseIndex + k * (options.maxRetries + 1) + t;
      const call = modelCallRecord({ identity: record.identity, index, parentId, ...(parentId ? { extendsParent: true } : {}), purpose: 'judge', model: model.spec, request, result, startedAt, endedAt: now() });
      record.recorder.modelCall(call);
      parentId = call.id;
    }
    if (!result.ok) throw new InfraError('judge', `${at}: ${result.kind}: ${result.message}`, { kind: failureKind(result.kind), retryable: result.retryable });
    const grade = readGrade(result.response.message.content, rubric);
    if (grade.ok) return grade.scores;
    problem = grade.problem;
    messages.push(result.response.message, { role: 'user', content: `That is not a valid grade: ${problem}. Answer again with only the JSON object.` });
  }
  throw new InfraError('judge', `rubric ${rubricRef(rubric)}, judge ${model.spec}, sample ${k + 1}: no valid grade after ${options.maxRetries + 1} tries; last problem: ${problem}`, {
    kind: 'malformed_response',
    retryable: false,
  });
}

/** Grades a transcript `samples` times (concurrently); any sample's failure fails the whole grade. */
export async function gradeWithRubric(transcript: string, options: RubricGraderOptions): Promise<RubricGrade> {
  const { rubric } = options;
  // Settled first, so no sample is still recording once the grade (or its failure) is returned.
  const settled = await Promise.allSettled(Array.from({ length: options.samples }, (_, k) => sample(transcript, k, options)));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const samples = settled.map((s) => (s as PromiseFulfilledResult<Record<string, number>>).value);
  const totalWeight = rubric.criteria.reduce((s, c) => s + c.weight, 0);
  const sampleScore = (scores: Record<string, number>) => rubric.criteria.reduce((s, c) => s + c.weight * normalised(c, scores[c.id]!), 0) / totalWeight;
  const criteria = rubric.criteria.map((c) => {
    const mean = samples.reduce((s, x) => s + x[c.id]!, 0) / samples.length;
    return { id: c.id, mean, normalised: normalised(c, mean) };
  });
  return {
    rubric: rubricRef(rubric),
    judge: options.model.spec,
    samples,
    criteria,
    score: samples.reduce((s, x) => s + sampleScore(x), 0) / samples.length,
    agreement: agreementOf(rubric, samples),
  };
}
