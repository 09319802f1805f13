// The rollout service for on-policy and async RL: a trainer asks over HTTP for batches of finished
// groups at its policy version, announces new versions, and reads lag, staleness and bias figures.
export { startRolloutService, RolloutServiceCore, type Outcome, type Rejection, type RolloutService, type RolloutServiceOptions, type ServiceRunRequest } from './service.ts';
export { RolloutScheduler, type BatchSink, type GroupExecutor, type GroupWork, type SchedulerOptions } from './scheduler.ts';
export { groupRows, type FinishedMember, type GroupRows } from './rows.ts';
export { groupVersions, withinStaleness } from './versions.ts';
export { RolloutServiceClient, ServiceRequestError, type BatchHandle, type ClientOptions } from './client.ts';
export { BatchRequest, PolicyAnnouncement, StreamFormat, type ServedCall, type ServedRollout, type StreamLine, type VersionSpan } from './schemas.ts';
export type { SchedulerReport, Distribution } from './report.ts';
