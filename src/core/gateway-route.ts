// The gateway's routing contract, shared by the gateway (module `training`) and the runner that
// sends its own rollouts through it: a rollout's calls go to `/rollouts/ID/v1/...`.

/** Request header of a client that records tokens itself (Gauntlet's runner): the gateway returns them instead. */
export const RECORDED_BY_HEADER = 'x-gauntlet-recorded-by';

/** The OpenAI-style base URL (ending in `/v1`) that routes a client's calls to rollout `rolloutId`. */
export function gatewayBaseUrl(gatewayUrl: string, rolloutId: string): string {
  return `${gatewayUrl.replace(/\/+$/, '')}/rollouts/${encodeURIComponent(rolloutId)}/v1`;
}
