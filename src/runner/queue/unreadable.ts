// A job whose stored data is not JSON (written by hand, truncated, corrupted) makes BullMQ's
// worker throw before our processor runs: the job is left active without a lock-holder, stalls,
// is taken again, throws again, and its run waits on it for as long as that goes on. The workers
// here read such a job as data that says why, so the processor fails it at once, naming the job.
import type * as BullMQ from 'bullmq';
import { errorMessage } from '../../core/index.ts';

const UNREADABLE = 'gauntletUnreadableJobData';

/** `Worker` whose jobs with unparsable data reach the processor as `{ [UNREADABLE]: why }`. */
export function tolerantWorker(Worker: typeof BullMQ.Worker): typeof BullMQ.Worker {
  return class TolerantWorker extends Worker {
    protected override createJob(data: BullMQ.JobJson, jobId: string): BullMQ.Job {
      try {
        return super.createJob(data, jobId);
      } catch (error) {
        const why = `its stored data is not JSON (${errorMessage(error)}; it starts ${JSON.stringify(String(data.data ?? '').slice(0, 60))})`;
        return super.createJob({ ...data, data: JSON.stringify({ [UNREADABLE]: why }) }, jobId);
      }
    }
  };
}

/** Why a job's data could not be read, when `tolerantWorker` replaced it; null for ordinary data. */
export function unreadableReason(data: unknown): string | null {
  if (data === null || typeof data !== 'object' || !(UNREADABLE in data)) return null;
  const why = (data as Record<string, unknown>)[UNREADABLE];
  return typeof why === 'string' ? why : 'its stored data is not JSON';
}
