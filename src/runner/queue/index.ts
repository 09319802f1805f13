// Scale-out through Redis (BullMQ): `run --queue` enqueues a run's rollouts and stores what
// workers send back; `gauntlet worker` runs them anywhere. Training consumers take finished
// rollouts through a window over the enqueued order.
export { executeQueuedRun, startQueuedRun, type CoordinatorEvent, type QueuedRun, type QueuedRunOptions, type QueuedRunSummary, type QueueSettings } from './coordinator.ts';
export type { TakenBatch, TakeOptions } from './consumer.ts';
export { startWorker, type ExternalAgents, type QueueWorker, type QueueWorkerOptions, type WorkerEvent } from './worker.ts';
export { endpointOf, parseRedisUrl, QueueError, rolloutQueueName, type RedisTarget } from './connection.ts';
export { parseRateLimit, type RateLimit } from './rate-limit.ts';
export { TakeRequest, type StalenessReport } from './window.ts';
export { describeQueueStatus, queueStatus, queueStatusMetrics, type ActiveJob, type EndpointQueueStatus, type FailedJob, type QueueClient, type QueueStatus, type QueueStatusOptions, type RunResultsStatus, type UnreadableResults } from './status.ts';
export { KEPT_RESULTS_MAX, keptResultsKey, type KeptResult } from './kept.ts';
export { checkQueueTrust, QUEUE_KEY_VARIABLE, QueueKey, queueKeyFrom } from './signing.ts';
export { cancelQueuedRun, type CancelledRun, type CancelQueuedRunOptions } from './cancel.ts';
