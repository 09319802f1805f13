// Types for the helpers worker.mjs exports (it runs in the sandbox as plain JavaScript).

/** The tagged JSON form of a value (see wire.ts for the shapes). */
export function encodeValue(value: unknown): unknown;

/** Name and message of anything thrown, never throwing itself. */
export function describeThrown(error: unknown): { name: string; message: string };
