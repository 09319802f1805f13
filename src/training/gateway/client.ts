// What a client of the gateway needs: the base URL of a rollout, and (for Gauntlet's own runner,
// which records calls itself) a fetch that asks the gateway to hand the token fields back instead
// of recording them.
import { RECORDED_BY_HEADER } from '../../core/index.ts';

export { gatewayBaseUrl } from '../../core/index.ts';

/**
 * A fetch for a model client that records its own calls (Gauntlet's OpenAI adapter): every request
 * says so, and the gateway returns the engine's prompt and completion ids and logprobs in vLLM's
 * shape rather than recording the call.
 */
export function gatewayClientFetch(base: typeof fetch = globalThis.fetch): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set(RECORDED_BY_HEADER, 'client');
    return base(input, { ...init, headers });
  };
}
