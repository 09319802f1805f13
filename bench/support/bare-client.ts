// The throughput bench's baseline, in a process of its own so that neither side's heap is left
// in the other's figures: N rollouts × turns of a bare request loop (node:http with kept-alive
// connections, undici's request, as Gauntlet's transport is built on undici, or fetch), the same
// request bodies as Gauntlet sends, against the same server. Prints one JSON Measure on stdout.
//   node --import tsx bench/support/bare-client.ts URL ROLLOUTS TURNS ENV [node-http|undici|fetch]
import http from 'node:http';
import { Agent, request } from 'undici';
import { getEnvironment, instantiate } from '../../src/envs/index.ts';
import { buildChatBody } from '../../src/model/index.ts';
import { measured } from './measure.ts';

const [url, rolloutsText, turnsText, envName, transport = 'node-http'] = process.argv.slice(2);
if (!url || !rolloutsText || !turnsText || !envName || !['node-http', 'undici', 'fetch'].includes(transport)) throw new Error('usage: bare-client.ts URL ROLLOUTS TURNS ENV [node-http|undici|fetch]');
const rollouts = Number(rolloutsText);
const turns = Number(turnsText);

const definition = getEnvironment(envName);
const task = definition.tasks()[0]!;
const env = instantiate(definition);
await env.reset(task, { seed: 1 });
const tools = env.tools();
await env.close();

const agent = new http.Agent({ keepAlive: true });
const dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

/** POSTs `body` and reads the whole answer as text. */
function post(target: string, body: string): Promise<string> {
  if (transport === 'fetch') return fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((response) => response.text());
  if (transport === 'undici') return request(target, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body }).then((response) => response.body.text());
  return new Promise((resolve, reject) => {
    const request = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (piece: string) => (text += piece)).once('end', () => resolve(text)).once('error', reject);
    });
    request.once('error', reject).end(body);
  });
}

const one = async () => {
  const messages: Parameters<typeof buildChatBody>[0]['messages'] = [
    { role: 'system', content: 'You are a capable assistant working in a software environment through the tools provided.' },
    { role: 'user', content: task.instruction },
  ];
  for (let turn = 0; turn <= turns; turn++) {
    const body = { ...buildChatBody({ messages, tools, sampling: {} }, { model: 'bench', flavor: 'generic' }), stream: true };
    const text = await post(`${url}/chat/completions`, JSON.stringify(body));
    if (!text.includes('[DONE]')) throw new Error('bare client: stream cut');
    if (turn < turns) {
      messages.push({ role: 'assistant', content: '', toolCalls: [{ id: `call_${turn}`, name: 'list_folders', arguments: {}, argumentsText: '{}' }] });
      messages.push({ role: 'tool', toolCallId: `call_${turn}`, name: 'list_folders', content: 'Inbox (12), Archive (40), Sent (7)', isError: false });
    }
  }
};

const run = (n: number) => Promise.all(Array.from({ length: n }, one)).then(() => undefined);
// Warm-up: fewer calls than this leave the HTTP client's code paths cold, and the baseline slow (half speed at 100 rollouts).
await run(200);
const result = await measured(rollouts * (turns + 1), () => run(rollouts));
process.stdout.write(`${JSON.stringify(result)}\n`);
