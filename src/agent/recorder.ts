import type { EventType, JsonValue, ModelCall } from '../core/index.ts';

/** Where the loop reports what happened, as it happens. The store implements it; tests collect in memory. */
export interface RolloutRecorder {
  modelCall(call: ModelCall): void;
  event(type: EventType, data: JsonValue): void;
}

export function memoryRecorder(): RolloutRecorder & { calls: ModelCall[]; events: { type: EventType; data: JsonValue }[] } {
  const calls: ModelCall[] = [];
  const events: { type: EventType; data: JsonValue }[] = [];
  return {
    calls,
    events,
    modelCall: (call) => void calls.push(call),
    event: (type, data) => void events.push({ type, data }),
  };
}

export const nullRecorder: RolloutRecorder = { modelCall: () => {}, event: () => {} };
