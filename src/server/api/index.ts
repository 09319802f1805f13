// The review API: runs, trajectories, labels, queues, agreement, exports, reports and task
// authoring over the store, with the web app beside it (`gauntlet serve`).
export { createApiApp, type ApiAppOptions } from './app.ts';
export { startApiServer, type ApiServer, type ApiServerOptions } from './server.ts';
export type { ReadOnlyStore } from './context.ts';
export type { StoreAccess } from './store-access.ts';
export { benchApiLatency, type ApiLatencyBench } from './bench.ts';
export type { RolloutRow } from './runs.ts';
