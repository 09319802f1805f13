// The data model every other module speaks. Only types, schemas and small pure helpers live here.
export * from './version.ts';
export * from './json.ts';
export * from './json-text.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './gateway-route.ts';
export * from './random.ts';
export * from './messages.ts';
export * from './tools.ts';
export * from './model-call.ts';
export * from './task.ts';
export * from './rollout.ts';
export * from './timers.ts';
export * from './migrate.ts';
export * from './store.ts';
export * from './access.ts';
export * from './detections.ts';
export type * from './interfaces.ts';
