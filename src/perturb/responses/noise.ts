// responses.noise: structured results carry bookkeeping fields a real API might add (etags,
// revisions, shards, timings), on the result and on each record of its lists. Nothing the task
// needs is removed or changed; text results are left alone (noise in a file's content would be a
// different file).
import { z } from 'zod';
import { createRng, type JsonObject, type JsonValue, type Rng } from '../../core/index.ts';
import { isObject } from '../json-schema.ts';
import { definePerturbation, type LayerSession } from '../types.ts';
import { structuredData } from './structured.ts';

const SHARDS = ['eu-west-1a', 'eu-west-1b', 'eu-central-1c', 'us-east-2a'] as const;

const NOISE_FIELDS: readonly [string, (rng: Rng) => JsonValue][] = [
  ['etag', (rng) => `W/"${rng.int(0, 2 ** 31).toString(16).padStart(8, '0')}"`],
  ['revision', (rng) => rng.int(1, 500)],
  ['shard', (rng) => rng.pick(SHARDS)],
  ['cache', (rng) => rng.pick(['hit', 'miss', 'stale'])],
  ['latency_ms', (rng) => rng.int(3, 900)],
  ['trace_id', (rng) => Array.from({ length: 4 }, () => rng.int(0, 65536).toString(16).padStart(4, '0')).join('')],
];

function withNoise(value: JsonObject, keys: readonly string[], rng: Rng): JsonObject {
  const out: JsonObject = { ...value };
  for (const key of keys) {
    if (key in out) continue;
    const make = NOISE_FIELDS.find(([name]) => name === key)?.[1];
    if (make) out[key] = make(rng);
  }
  return out;
}

/** Noise on the result object and on every record of its lists (one level down). */
export function addNoise(data: JsonValue, keys: readonly string[], rng: Rng): JsonValue {
  const records = (value: JsonValue): JsonValue => (Array.isArray(value) ? value.map((v) => (isObject(v) ? withNoise(v, keys, rng) : v)) : value);
  if (Array.isArray(data)) return records(data);
  if (!isObject(data)) return data;
  const top = withNoise(data, keys, rng);
  return Object.fromEntries(Object.entries(top).map(([k, v]) => [k, records(v)]));
}

export const noise = definePerturbation({
  id: 'responses.noise',
  family: 'responses',
  summary: 'adds bookkeeping fields (etag, revision, shard, cache, latency, trace id) to structured results and their records',
  randomised: () => true,
  params: z.object({ fields: z.number().int().min(1).max(NOISE_FIELDS.length).default(3) }).strict(),
  supports: (target) => (target.tools.length === 0 ? 'the task offers no tools' : null),
  apply(target, { rng, params }) {
    const keys = rng
      .shuffle(NOISE_FIELDS.map(([name]) => name))
      .slice(0, params.fields);
    const base = rng.int(0, 2 ** 31);
    const open = (): LayerSession => {
      let calls = 0;
      return {
        async call(tool, args, below) {
          const outcome = await below(tool, args);
          const data = structuredData(outcome);
          // Numbered per call, so the same calls in the same order get the same noise.
          const callRng = createRng(`${base}:${calls++}`);
          if (data === null || !outcome.ok) return outcome;
          const noisy = addNoise(data, keys, callRng);
          return { ...outcome, content: JSON.stringify(noisy), data: noisy };
        },
      };
    };
    return { layer: { tools: target.tools, lift: (steps) => [...steps], lower: (call) => call, open } };
  },
});
