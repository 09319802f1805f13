// Types for probes.mjs (fixtures for run.test.ts).
export const moduleSource: string;
export const resilient: unknown;
export const broken: unknown;
