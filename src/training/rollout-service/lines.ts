import type { Task } from '../../core/index.ts';
import type { AdvantageMethod } from '../advantages/index.ts';
import type { ExportTarget } from '../export/index.ts';
import { trainingCalls } from '../trajectory/index.ts';
import type { GroupRows } from './rows.ts';
import type { ServedRollout, StreamFormat, StreamLine, VersionSpan } from './schemas.ts';
import { callVersion } from './versions.ts';

export type GroupLine = Extract<StreamLine, { type: 'group' }>;

export interface GroupLineInput {
  batch: { id: string; served: number; method: AdvantageMethod; target: ExportTarget };
  key: string;
  task: Task;
  /** Versions of every training call in the group (proved complete when the group settled). */
  span: VersionSpan;
  /** The trainer's version at handout: every lag is measured against it. */
  current: number;
  built: Extract<GroupRows, { ok: true }>;
}

/** The stream line of a group handed out now: rows, rewards, advantages and each call's version and lag. */
export function groupLine(input: GroupLineInput): GroupLine {
  const { batch, built, current, span } = input;
  const rollouts = built.members.map((member, i): ServedRollout => {
    const calls = trainingCalls(member.calls).map((call) => {
      const version = callVersion(call) as number;
      return { modelCallId: call.id, index: call.index, policyVersion: version, lag: current - version };
    });
    const versions = calls.map((c) => c.policyVersion);
    return {
      rolloutId: member.rollout.id,
      epoch: member.rollout.epoch,
      reward: built.rewards[i] as number,
      advantage: built.advantages[i] as number,
      passed: member.rollout.passed,
      terminationReason: member.rollout.terminationReason,
      turns: member.rollout.stats.turns,
      policyVersions: { min: Math.min(...versions), max: Math.max(...versions) },
      calls,
    };
  });
  return {
    type: 'group',
    batchId: batch.id,
    seq: batch.served,
    groupId: built.members[0]?.rollout.groupId ?? input.key,
    taskId: input.task.id,
    env: input.task.env,
    currentVersion: current,
    policyVersions: span,
    lag: { min: current - span.max, max: current - span.min },
    advantageMethod: batch.method,
    rewards: built.rewards,
    advantages: built.advantages,
    rollouts,
    format: { target: batch.target.name as StreamFormat, variant: batch.target.variant },
    rows: built.rows,
  };
}
