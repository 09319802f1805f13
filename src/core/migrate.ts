// Stored records carry the `schemaVersion` they were written with and are upgraded step by step
// when read, so every store any version wrote stays readable. A step never edits the stored row.
import { InputError } from './errors.ts';
import { SCHEMA_VERSION } from './version.ts';

export type RecordKind = 'run' | 'rollout' | 'modelCall' | 'event' | 'label' | 'task' | 'detections';

type RawRecord = Record<string, unknown>;

export interface RecordUpgrade {
  /** The version this step reads; it returns the record at `from + 1`. */
  from: number;
  description: string;
  /** The upgraded record, or null when records of this kind and shape no longer exist (dropped on read). */
  upgrade(kind: RecordKind, record: RawRecord): RawRecord | null;
}

/** Settings version 1 did not store, with the values version 1 behaved with. */
const V1_RUN_SETTINGS = {
  // The old client default: 10 minutes per request.
  requestTimeoutMs: 600_000,
  // Version 1 stored model output whatever its size.
  maxOutputBytes: 1_000_000_000,
  groupSize: 1,
  // Version 1 did not store `--context-budget`: a resumed run cannot know it; the stored record says "off".
  context: null,
};

export const RECORD_UPGRADES: readonly RecordUpgrade[] = [
  {
    from: 1,
    description: 'run configs gain the settings version 1 left implicit; the retired model_call event is dropped',
    upgrade(kind, record) {
      if (kind === 'event' && record.type === 'model_call') return null;
      if (kind === 'run' && isObject(record.config)) return { ...record, config: { ...V1_RUN_SETTINGS, ...record.config } };
      return record;
    },
  },
];

/**
 * Brings a stored record to the current `SCHEMA_VERSION`. Records written by a newer Gauntlet are
 * refused with the version numbers, never misread.
 */
export function upgradeRecord(kind: RecordKind, record: RawRecord, where: string, steps: readonly RecordUpgrade[] = RECORD_UPGRADES): RawRecord | null {
  const target = steps.reduce<number>((max, step) => Math.max(max, step.from + 1), SCHEMA_VERSION);
  let version = typeof record.schemaVersion === 'number' ? record.schemaVersion : 1;
  if (version > target) throw new InputError(where, `${kind} record has schema version ${version}, newer than this Gauntlet reads`, `schema version ${target} or older (upgrade Gauntlet)`);
  let current: RawRecord | null = record;
  while (current && version < target) {
    const step = steps.find((s) => s.from === version);
    if (!step) throw new InputError(where, `no upgrade from schema version ${version}`, `a known schema version`);
    current = step.upgrade(kind, current);
    version++;
    if (current) current = { ...current, schemaVersion: version };
  }
  return current;
}

function isObject(value: unknown): value is RawRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
