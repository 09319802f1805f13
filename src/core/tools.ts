import { z } from 'zod';
import { JsonObject, JsonValue } from './json.ts';

/** A tool the model may call; `parameters` is a JSON Schema object. */
export const ToolSpec = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)'),
  description: z.string(),
  parameters: JsonObject,
});
export type ToolSpec = z.infer<typeof ToolSpec>;

/** A tool call to make (golden solutions, oracle and bare-loop callers): no provider id needed. */
export const ToolInvocation = z.object({
  tool: z.string().min(1),
  arguments: JsonObject.default({}),
});
export type ToolInvocation = z.infer<typeof ToolInvocation>;

/**
 * What a tool call returned. Expected failures are values the agent loop gives back to the model:
 * `invalid_arguments` and `unknown_tool` for bad calls, `tool_error` for a valid call that failed,
 * `transient` for a failure that may succeed on retry.
 */
export const ToolOutcome = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    content: z.string(),
    data: JsonValue.optional(),
    /** The call ended the episode (a submit tool); `answer` is what was submitted. */
    endsEpisode: z.boolean().optional(),
    answer: z.string().optional(),
  }),
  z.object({
    ok: z.literal(false),
    kind: z.enum(['invalid_arguments', 'unknown_tool', 'tool_error', 'transient']),
    error: z.string(),
  }),
]);
export type ToolOutcome = z.infer<typeof ToolOutcome>;
