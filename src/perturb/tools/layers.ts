import type { JsonObject, ToolInvocation, ToolOutcome, ToolSpec } from '../../core/index.ts';
import type { LayerSession, ToolLayer } from '../types.ts';

/** A layer that shows different specs (descriptions, order, loosened types) and changes no call. */
export function specsOnlyLayer(tools: readonly ToolSpec[]): ToolLayer {
  const session: LayerSession = { call: (tool, args, below) => below(tool, args) };
  return { tools, lift: (steps) => [...steps], lower: (call) => call, open: () => session };
}

export function invalidArguments(error: string): ToolOutcome {
  return { ok: false, kind: 'invalid_arguments', error };
}

/** A step with its arguments transformed. */
export function mapArguments(step: ToolInvocation, map: (args: JsonObject) => JsonObject): ToolInvocation {
  return { tool: step.tool, arguments: map(step.arguments) };
}

export function toolNamed(tools: readonly ToolSpec[], name: string): ToolSpec | undefined {
  return tools.find((t) => t.name === name);
}
