import type { ModelCall } from '../../core/index.ts';
import { policyVersionOf, trainingCalls } from '../trajectory/index.ts';
import type { FinishedMember } from './rows.ts';
import type { VersionSpan } from './schemas.ts';

/** A call's policy version as a step number, or null when it carries none (or not a whole number). */
export function callVersion(call: ModelCall): number | null {
  const version = policyVersionOf(call);
  return version !== null && /^\d+$/.test(version) ? Number(version) : null;
}

export type GroupVersions = { ok: true; span: VersionSpan } | { ok: false; detail: string };

/**
 * The versions of every call a group would hand out (its members' training calls). A call without
 * a version cannot be shown to be within the staleness bound, so such a group is never served.
 */
export function groupVersions(members: readonly FinishedMember[]): GroupVersions {
  let min = Infinity;
  let max = -Infinity;
  for (const member of members) {
    for (const call of trainingCalls(member.calls)) {
      const version = callVersion(call);
      if (version === null) return { ok: false, detail: `call ${call.index} of ${member.rollout.id} carries no step-numbered policy version (got ${JSON.stringify(policyVersionOf(call))})` };
      min = Math.min(min, version);
      max = Math.max(max, version);
    }
  }
  if (min === Infinity) return { ok: false, detail: 'the group made no model call that produced training data' };
  return { ok: true, span: { min, max } };
}

/** Whether a group whose oldest call is `oldest` may be handed out while the trainer is at `current`. */
export function withinStaleness(oldest: number, current: number, maxStaleness: number): boolean {
  return current - oldest <= maxStaleness;
}
