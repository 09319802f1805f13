// A rollout thread's side of storing: what `executeRollout` records is kept as it was recorded
// (calls, events, attempt by attempt) and sent to the main thread in one message, which replays
// it through the store's own recorders.
import type { AttemptIdentity, AttemptRecorder, AttemptsSpend, RecordedEvent, Rollout } from '../../core/index.ts';
import type { DecodedResult } from '../queue/replay.ts';
import { sealableRecorder, spendBefore, type RolloutStore } from '../queue/buffer.ts';

type Session = DecodedResult['sessions'][number];

export class CapturedRollout implements RolloutStore {
  private readonly sessions: Session[] = [];
  private readonly rolloutId: string;
  private readonly firstAttempt: number;
  private readonly earlier: AttemptsSpend | undefined;

  constructor(options: { rolloutId: string; firstAttempt: number; earlier?: AttemptsSpend }) {
    this.rolloutId = options.rolloutId;
    this.firstAttempt = options.firstAttempt;
    this.earlier = options.earlier;
  }

  /** The main thread knows what the store holds, so it chose the first attempt. */
  nextAttempt(rolloutId: string): number {
    if (rolloutId !== this.rolloutId) throw new Error(`captured rollout ${this.rolloutId} asked about ${rolloutId}`);
    return this.firstAttempt;
  }

  /** And it says what the attempts before that one spent. */
  attemptsSpend(rolloutId: string, beforeAttempt: number): AttemptsSpend {
    return spendBefore({ rolloutId: this.rolloutId, firstAttempt: this.firstAttempt, earlier: this.earlier }, rolloutId, beforeAttempt);
  }

  recorder(identity: AttemptIdentity): AttemptRecorder {
    if (identity.rolloutId !== this.rolloutId) throw new Error(`captured rollout ${this.rolloutId} asked to record ${identity.rolloutId}`);
    const session: Session = { attempt: identity.attempt, entries: [] };
    this.sessions.push(session);
    return sealableRecorder({
      modelCall: (call) => session.entries.push({ kind: 'call', call }),
      // The recorder's signature ties data to type; the union type cannot see that.
      event: (type, data) => session.entries.push({ kind: 'event', event: { type, data } as RecordedEvent, at: new Date() }),
    });
  }

  result(rollout: Rollout): DecodedResult {
    return { rollout, sessions: this.sessions.filter((s) => s.entries.length > 0) };
  }
}
