// A finished group's training rows: the export module's own targets, advantages and token
// trajectories, applied to one group straight from the store, so a streamed batch holds exactly
// the rows `gauntlet export` would write for the same rollouts.
import { DefectError, describeZodIssues, type ModelCall, type Rollout, type Run } from '../../core/index.ts';
import { groupRollouts, type AdvantageMethod } from '../advantages/index.ts';
import { linkPrefixes, trajectoryProblem, type ExportTarget, type ExportUnit } from '../export/index.ts';
import { assembleTrajectory, trainingCalls } from '../trajectory/index.ts';

/** A rollout of a finished group with every model call of its final attempt. */
export interface FinishedMember {
  rollout: Rollout;
  calls: ModelCall[];
}

export interface GroupRowsOptions {
  run: Run;
  target: ExportTarget;
  method: AdvantageMethod;
}

export type GroupRows =
  | { ok: true; rows: object[]; members: FinishedMember[]; rewards: number[]; advantages: number[] }
  | { ok: false; reason: string; detail: string };

/**
 * Rows of one group, members in repetition order. A group whose rollouts cannot be exported (no
 * engine ids, no logprobs for a target that needs them) is refused with the reason, never patched;
 * a row that fails its target's schema is a defect in the export code.
 */
export function groupRows(members: readonly FinishedMember[], options: GroupRowsOptions): GroupRows {
  const { target } = options;
  const grouping = groupRollouts(
    members.map((m) => m.rollout),
    { method: options.method, groupBy: 'group' },
  );
  const [group, ...others] = grouping.groups;
  if (!group || others.length > 0 || grouping.excluded.length > 0) {
    return { ok: false, reason: 'not_one_group', detail: `expected ${members.length} scored rollouts of one group, got ${grouping.groups.length} groups and ${grouping.excluded.length} unscored` };
  }
  const byId = new Map(members.map((m) => [m.rollout.id, m]));
  const ordered = group.members.map((rollout) => byId.get(rollout.id) as FinishedMember);
  const units: ExportUnit[] = [];
  for (const [repetition, member] of ordered.entries()) {
    let trajectory: ExportUnit['trajectory'] = null;
    const where = `${member.rollout.id} (${member.rollout.taskId} #${member.rollout.epoch})`;
    if (target.needs.tokens) {
      const assembled = assembleTrajectory(member.calls);
      if (!assembled.ok) return { ok: false, reason: assembled.reason, detail: `${where}: ${assembled.detail}` };
      trajectory = assembled.trajectory;
      // The export's own checks: a greedy call for prime-rl, a call with no step version for TRL
      // async, an empty last completion would otherwise reach the row schema and read as our defect.
      const problem = trajectoryProblem(trajectory, target, { calls: trainingCalls(member.calls) });
      if (problem) return { ok: false, reason: problem.reason, detail: `${where}: ${problem.detail}` };
    }
    units.push({
      run: options.run,
      rollout: member.rollout,
      calls: trainingCalls(member.calls),
      group: { id: group.id, size: group.members.length, repetition },
      reward: group.rewards[repetition] as number,
      advantage: group.advantages[repetition] as number,
      method: options.method,
      trajectory,
      prefix: [],
      assumedTemperature: null,
    });
  }
  if (target.needs.tokens) linkPrefixes(units);
  const rows: object[] = [];
  for (const unit of units) {
    for (const row of target.rows(unit)) {
      const checked = target.schema.safeParse(row);
      if (!checked.success) {
        throw new DefectError('gauntlet', `rollout service: a ${target.name} ${target.variant} row of ${unit.rollout.id} fails its schema:\n${describeZodIssues(checked.error.issues)}`);
      }
      rows.push(row);
    }
  }
  return { ok: true, rows, members: ordered, rewards: group.rewards, advantages: group.advantages };
}
