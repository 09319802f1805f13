// The token-capturing gateway: an OpenAI- and Anthropic-compatible proxy in front of vLLM or
// SGLang that records every call of a rollout with the engine's token ids and logprobs, and answers
// the client exactly as the engine would have. See docs/design/gateway.md.
export { DEFAULT_ABANDON_AFTER_MS, DEFAULT_UPSTREAM_TIMEOUT_MS, startGateway, type Gateway, type GatewayOptions, type GatewayStats } from './server.ts';
export { gatewayBaseUrl, gatewayClientFetch } from './client.ts';
export type { GatewayRoute } from './recording.ts';
export { FinishBody, GATEWAY_ENV, EXTERNAL_SCAFFOLD } from './run-mode.ts';
export { chatCaptureFields, type EngineKind } from './capture.ts';
export type { EngineInfo, EngineSetting } from './upstream.ts';
export { RECORDED_HEADER, RECORDED_BY_HEADER, ROLLOUT_HEADER } from './http.ts';
export { gatewayBench, gatewayBenchFigures, type GatewayBenchCase, type GatewayBenchFigure, type GatewayBenchOptions } from './bench.ts';
