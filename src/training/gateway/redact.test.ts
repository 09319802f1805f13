// The gateway's own key masked in streamed answers even where the model spells it out a few
// characters per event: for every streamed API, every text of the answer (content, reasoning, a
// tool call's arguments) is masked across its events, nothing is lost or reordered, and the
// record keeps the engine's token ids and logprobs as they came.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsonValue } from '../../core/index.ts';
import { anthropicMessagesStream } from '../../model/anthropic-stream.ts';
import { gatewayBaseUrl, startGateway, type Gateway } from './index.ts';
import { TextMasker } from './stream-masker.ts';
import { attachMemory, sseEvents } from './test-support.ts';

const KEY = 'sk-Q7xZr2Lm4Np8Vt3Kb6Hd1Wy5Jc';
const mask = (text: string): string => text.split(KEY).join('***');

type JsonRecord = { [key: string]: JsonValue };

describe('TextMasker', () => {
  const text = `key ${KEY}, again ${KEY}${KEY} then ${KEY.slice(0, 12)}x, an s and ${KEY.slice(0, 20)}`;

  it('masks the key however the text is cut into pieces, and joins back to the text with only the key masked', () => {
    for (let a = 0; a <= text.length; a++) {
      for (let b = a; b <= text.length; b += 7) {
        const masker = new TextMasker(KEY);
        const out = masker.push(text.slice(0, a)) + masker.push(text.slice(a, b)) + masker.push(text.slice(b)) + masker.flush();
        assert.equal(out, mask(text), `cut at ${a} and ${b}`);
      }
    }
    const masker = new TextMasker(KEY);
    assert.equal([...text].map((c) => masker.push(c)).join('') + masker.flush(), mask(text), 'one character per piece');
  });

  it('holds back only the longest end that could still begin the key, and lets it go as soon as it cannot', () => {
    const masker = new TextMasker(KEY);
    assert.equal(masker.push('aliases'), 'aliase', 'a trailing s could begin sk-');
    assert.equal(masker.push('k'), '');
    assert.equal(masker.push('-Q7 and more'), 'sk-Q7 and more', 'refuted: the held text goes out first, unchanged');
    assert.equal(masker.holding, false);
    assert.equal(masker.push('plain text.'), 'plain text.');
    assert.equal(masker.push(`${KEY.slice(0, 9)}`), '');
    assert.equal(masker.push(`${KEY.slice(9)}!`), '***!');
    assert.equal(masker.push('ends with s'), 'ends with ');
    assert.equal(masker.flush(), 's', 'the end lets the held text go');
  });
});

// ── through the gateway ────────────────────────────────────────────────────────────────────

interface Piece {
  content?: string;
  reasoning?: string;
  call?: { index: number; id?: string; name?: string; arguments: string };
  finish?: string;
}

interface Scenario {
  pieces: Piece[];
  /** The upstream's body stops after the pieces: no finish, no [DONE]. */
  cut?: boolean;
  /** Only in chat terms: a completions stream has one text, so it runs the content pieces only. */
  chatOnly?: boolean;
}

const LEAD = 'The key is ';
const SCENARIOS: Record<string, Scenario> = {
  'split across two events': { pieces: [{ content: `${LEAD}${KEY.slice(0, 14)}` }, { content: `${KEY.slice(14)}, keep it.`, finish: 'stop' }] },
  'split across three events': { pieces: [{ content: `${LEAD}${KEY.slice(0, 5)}` }, { content: KEY.slice(5, 18) }, { content: `${KEY.slice(18)}.` }, { finish: 'stop' }] },
  'one character per event': { pieces: [{ content: LEAD }, ...[...KEY].map((c) => ({ content: c })), { content: ' (twice: ' }, ...[...KEY].map((c) => ({ content: c })), { content: ')', finish: 'stop' }] },
  'a near miss, refuted': { pieces: [{ content: `${LEAD}${KEY.slice(0, 20)}` }, { content: 'X is not it, nor is s' }, { content: 'k-' }, { content: 'ing.' }, { finish: 'stop' }] },
  'cut in the middle of a prefix': { pieces: [{ content: `${LEAD}${KEY.slice(0, 8)}` }, { content: KEY.slice(8, 15) }], cut: true },
  'in reasoning, split across events, then text': {
    pieces: [{ reasoning: `Thinking about ${KEY.slice(0, 10)}` }, { reasoning: `${KEY.slice(10)} now.` }, { content: 'Done.' }, { finish: 'stop' }],
    chatOnly: true,
  },
  'in a tool call’s arguments, split across events': {
    pieces: [{ call: { index: 0, id: 'call_1', name: 'read_file', arguments: '' } }, { call: { index: 0, arguments: `{"path": "${KEY.slice(0, 3)}` } }, { call: { index: 0, arguments: `${KEY.slice(3, 17)}` } }, { call: { index: 0, arguments: `${KEY.slice(17)}"}` } }, { finish: 'tool_calls' }],
    chatOnly: true,
  },
  'split across text and then reasoning': { pieces: [{ content: `${LEAD}${KEY.slice(0, 12)}` }, { reasoning: `${KEY.slice(12)} was the rest.` }, { finish: 'stop' }], chatOnly: true },
};

/** What one text of the answer holds as the client reads it; `reasoning` and `call N` by their kind. */
type Texts = { kind: string; text: string }[];

/** The engine's texts, joined as each API's client joins them, with the key masked in each. */
function expected(scenario: Scenario, api: Api): Texts {
  const blocks: Texts = [];
  const add = (kind: string, text: string, separate: boolean): void => {
    const open = separate ? blocks.at(-1) : blocks.find((block) => block.kind === kind);
    if (open?.kind === kind) open.text += text;
    else blocks.push({ kind, text });
  };
  // Responses and Anthropic clients get a block per run of one kind; chat clients one text per field.
  const separate = api === 'responses' || api === 'messages';
  for (const piece of scenario.pieces) {
    if (piece.reasoning) add('reasoning', piece.reasoning, separate);
    if (piece.content) add('content', piece.content, separate);
    if (piece.call) add(`call ${piece.call.index}`, piece.call.arguments, separate);
  }
  return blocks.map((block) => ({ kind: block.kind, text: mask(block.text) }));
}

const TOKEN_BASE = 1000;

/** The engine's chunks for a scenario, with a token id and a logprob per chunk (as vLLM sends them when asked). */
function upstreamBody(scenario: Scenario, completions: boolean): string {
  const events: string[] = [];
  scenario.pieces.forEach((piece, i) => {
    const id = TOKEN_BASE + i;
    const finish = piece.finish ?? null;
    let choice: JsonRecord;
    if (completions) {
      choice = { index: 0, text: piece.content ?? '', logprobs: { tokens: [`t${i}`], token_logprobs: [-(i + 1) / 8], top_logprobs: null, text_offset: [0] }, finish_reason: finish, token_ids: [id] };
    } else {
      const delta: JsonRecord = i === 0 ? { role: 'assistant' } : {};
      if (piece.reasoning !== undefined) delta.reasoning_content = piece.reasoning;
      if (piece.content !== undefined) delta.content = piece.content;
      if (piece.call) delta.tool_calls = [{ index: piece.call.index, ...(piece.call.id ? { id: piece.call.id, type: 'function' } : {}), function: { ...(piece.call.name ? { name: piece.call.name } : {}), arguments: piece.call.arguments } }];
      choice = { index: 0, delta, logprobs: { content: [{ token: `t${i}`, logprob: -(i + 1) / 8, bytes: [], top_logprobs: [] }] }, finish_reason: finish, token_ids: [id] };
    }
    events.push(`data: ${JSON.stringify({ id: 'cmpl-1', object: completions ? 'text_completion' : 'chat.completion.chunk', created: 0, model: 'm', choices: [choice] })}\n\n`);
  });
  if (!scenario.cut) events.push(`data: ${JSON.stringify({ id: 'cmpl-1', object: completions ? 'text_completion' : 'chat.completion.chunk', created: 0, model: 'm', choices: [], usage: { prompt_tokens: 3, completion_tokens: scenario.pieces.length, total_tokens: 3 + scenario.pieces.length } })}\n\ndata: [DONE]\n\n`);
  return events.join('');
}

/** An engine that streams the scenario the request names (the user's text, or the prompt). */
const engine: typeof fetch = (input, init) => {
  const completions = new URL(String(input)).pathname.endsWith('/v1/completions');
  const body = JSON.parse(String(init?.body)) as { prompt?: string; messages?: { content: string }[] };
  const name = completions ? body.prompt : body.messages?.at(-1)?.content;
  const scenario = SCENARIOS[name ?? ''];
  if (!scenario) return Promise.resolve(Response.json({ error: { message: `no scenario ${name}` } }, { status: 400 }));
  return Promise.resolve(new Response(upstreamBody(scenario, completions), { status: 200, headers: { 'content-type': 'text/event-stream' } }));
};

type Api = 'chat' | 'completions' | 'responses' | 'messages';

/** The stream as far as it arrives, and whether it was cut (a chat or completions client reads the gateway's cut as a broken body). */
async function post(gateway: Gateway, rolloutId: string, api: Api, name: string): Promise<{ text: string; cut: boolean }> {
  const base = gatewayBaseUrl(gateway.url, rolloutId);
  const [path, body] =
    api === 'chat'
      ? ['/chat/completions', { model: 'm', messages: [{ role: 'user', content: name }], stream: true }]
      : api === 'completions'
        ? ['/completions', { model: 'm', prompt: name, stream: true }]
        : api === 'responses'
          ? ['/responses', { model: 'm', input: name, stream: true, store: false }]
          : ['/messages', { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: name }], stream: true }];
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), cut: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch (_error) {
    return { text, cut: true };
  }
}

/** The texts a chat or completions client joins, one per field (each tool call its own), and how the stream ended. */
function readOpenAi(text: string, completions: boolean): { texts: Texts; end: string } {
  const texts: Texts = [];
  const add = (kind: string, piece: unknown): void => {
    if (piece === undefined) return;
    assert.equal(typeof piece, 'string', `${kind} is text`);
    const open = texts.find((t) => t.kind === kind);
    if (open) open.text += piece as string;
    else if (piece !== '') texts.push({ kind, text: piece as string });
  };
  let end = 'no [DONE]';
  for (const event of sseEvents(text)) {
    if (event.data === '[DONE]') {
      end = 'done';
      continue;
    }
    const chunk = JSON.parse(event.data) as { choices: { index: number; text?: string; delta?: { content?: string; reasoning_content?: string; tool_calls?: { index: number; function?: { arguments?: string } }[] } }[] };
    for (const choice of chunk.choices) {
      assert.equal(choice.index, 0, `every choice keeps its index: ${event.data}`);
      if (completions) add('content', choice.text);
      else {
        assert.ok(choice.delta, `a chat chunk has a delta: ${event.data}`);
        add('reasoning', choice.delta.reasoning_content);
        add('content', choice.delta.content);
        for (const call of choice.delta.tool_calls ?? []) add(`call ${call.index}`, call.function?.arguments ?? '');
      }
    }
  }
  return { texts: texts.sort((a, b) => a.kind.localeCompare(b.kind)), end };
}

/** The Responses items' texts in order, read from the deltas, checked against each item's .done event. */
function readResponses(text: string): { texts: Texts; end: string } {
  const texts: Texts = [];
  const done: string[] = [];
  let end = 'none';
  let sequence = -1;
  for (const { event, data } of sseEvents(text)) {
    const body = JSON.parse(data) as { type: string; sequence_number: number; output_index: number; delta?: string; text?: string; arguments?: string; item?: { type: string } };
    assert.equal(body.type, event);
    assert.equal(body.sequence_number, ++sequence, 'sequence numbers run on');
    if (event === 'response.output_item.added') {
      assert.equal(body.output_index, texts.length);
      const kind = body.item?.type === 'reasoning' ? 'reasoning' : body.item?.type === 'message' ? 'content' : `call ${texts.filter((t) => t.kind.startsWith('call')).length}`;
      texts.push({ kind, text: '' });
    } else if (event.endsWith('.delta')) {
      assert.ok(typeof body.delta === 'string' && body.delta !== '', `no empty delta: ${data}`);
      (texts[body.output_index] as Texts[number]).text += body.delta;
    } else if (event === 'response.output_text.done' || event === 'response.reasoning_text.done') done[body.output_index] = body.text as string;
    else if (event === 'response.function_call_arguments.done') done[body.output_index] = body.arguments as string;
    else if (event === 'response.completed' || event === 'response.failed' || event === 'response.incomplete') end = event;
  }
  assert.deepEqual(done, texts.map((t) => t.text), 'each item’s .done text is its deltas joined');
  return { texts: texts.filter((t) => t.text !== ''), end };
}

/** Anthropic's blocks in order, read with Gauntlet's own Anthropic stream reader where the stream is whole. */
function readMessages(text: string): { texts: Texts; end: string } {
  const texts: Texts = [];
  let end = 'none';
  const assembler = anthropicMessagesStream();
  for (const event of sseEvents(text)) {
    const body = JSON.parse(event.data) as { type: string; index: number; content_block?: { type: string }; delta?: { type: string; text?: string; thinking?: string; partial_json?: string } };
    if (body.type !== 'error') assert.notEqual(assembler.push(event), undefined);
    if (body.type === 'content_block_start') {
      assert.equal(body.index, texts.length);
      const type = body.content_block?.type;
      texts.push({ kind: type === 'thinking' ? 'reasoning' : type === 'text' ? 'content' : `call ${texts.filter((t) => t.kind.startsWith('call')).length}`, text: '' });
    } else if (body.type === 'content_block_delta') {
      const piece = body.delta?.type === 'text_delta' ? body.delta.text : body.delta?.type === 'thinking_delta' ? body.delta.thinking : body.delta?.type === 'input_json_delta' ? body.delta.partial_json : '';
      if (body.delta?.type !== 'signature_delta') assert.ok(typeof piece === 'string' && piece !== '', `no empty delta: ${event.data}`);
      (texts[body.index] as Texts[number]).text += piece ?? '';
    } else if (body.type === 'message_stop' || body.type === 'error') end = body.type;
  }
  return { texts, end };
}

/** A tool call's arguments as an Anthropic client gets them: one JSON object, written again. */
function asAnthropicInput(texts: Texts): Texts {
  return texts.map((t) => (t.kind.startsWith('call') ? { ...t, text: JSON.stringify(JSON.parse(t.text)) } : t));
}

describe('the gateway’s key spelled out across stream events', () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await startGateway({ upstream: 'http://127.0.0.1:9/v1', port: 0, engine: 'vllm', fetch: engine, apiKey: KEY });
  });
  after(() => gateway.close());

  const apis: Api[] = ['chat', 'completions', 'responses', 'messages'];
  for (const api of apis) {
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      if (scenario.chatOnly && api === 'completions') continue;
      it(`${api}: ${name}`, async () => {
        const rolloutId = `ro_${api}_${Object.keys(SCENARIOS).indexOf(name)}`;
        const rollout = attachMemory(gateway, rolloutId);
        try {
          const { text, cut } = await post(gateway, rolloutId, api, name);
          const read = api === 'chat' || api === 'completions' ? readOpenAi(text, api === 'completions') : api === 'responses' ? readResponses(text) : readMessages(text);
          let want = expected(scenario, api);
          if (api === 'chat' || api === 'completions') want = want.sort((a, b) => a.kind.localeCompare(b.kind));
          if (api === 'messages') want = asAnthropicInput(want);
          assert.deepEqual(read.texts, want, `what the client read:\n${text}`);
          const ends = { chat: ['done', 'no [DONE]'], completions: ['done', 'no [DONE]'], responses: ['response.completed', 'response.failed'], messages: ['message_stop', 'error'] }[api];
          assert.equal(read.end, ends[scenario.cut ? 1 : 0], text);
          if (api === 'chat' || api === 'completions') assert.equal(cut, scenario.cut === true, 'a cut upstream is a cut client');

          assert.equal(rollout.recorder.calls.length, 1);
          const call = rollout.recorder.calls[0];
          if (scenario.cut) {
            assert.ok(call?.error, 'a cut stream is recorded as the failure it is');
            return;
          }
          // The record keeps the engine's tokens exactly; its text is masked whole.
          const tokens = call?.response?.tokens;
          assert.deepEqual(tokens?.completionIds, scenario.pieces.map((_piece, i) => TOKEN_BASE + i));
          assert.deepEqual(tokens?.completionLogprobs, scenario.pieces.map((_piece, i) => -(i + 1) / 8));
          assert.equal(call?.response?.message.content, mask(scenario.pieces.map((p) => p.content ?? '').join('')));
        } finally {
          rollout.detach();
        }
      });
    }
  }

  it('does not mask a key split across two fields: each field is its own text, as the client reads it', async () => {
    const rollout = attachMemory(gateway, 'ro_fields');
    try {
      const { text } = await post(gateway, 'ro_fields', 'chat', 'split across text and then reasoning');
      const { texts } = readOpenAi(text, false);
      // Joining two fields is the client's choice, not the API's: masking across them would cut into texts that never held the key.
      assert.deepEqual(texts, [
        { kind: 'content', text: `${LEAD}${KEY.slice(0, 12)}` },
        { kind: 'reasoning', text: `${KEY.slice(12)} was the rest.` },
      ]);
    } finally {
      rollout.detach();
    }
  });
});
