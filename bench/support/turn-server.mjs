// A loopback OpenAI-style chat server for throughput benches, run in its own process so its CPU
// is not the client's: turn i < TURNS answers with one `list_folders` tool call, the last with text.
// Usage: node turn-server.mjs <latencyMs> <turns>; prints the port on stdout.
import { createServer } from 'node:http';

const latencyMs = Number(process.argv[2] ?? 50);
const turns = Number(process.argv[3] ?? 10);

function answer(turn) {
  if (turn < turns) {
    return { role: 'assistant', content: '', tool_calls: [{ id: `call_${turn}`, type: 'function', function: { name: 'list_folders', arguments: '{}' } }] };
  }
  return { role: 'assistant', content: 'Done.' };
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const turn = body.messages.filter((m) => m.role === 'assistant').length;
    const message = answer(turn);
    const finish = message.tool_calls ? 'tool_calls' : 'stop';
    setTimeout(() => {
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = { id: `c${turn}`, object: 'chat.completion.chunk', model: 'bench', choices: [{ index: 0, delta: message.tool_calls ? { role: 'assistant', tool_calls: message.tool_calls.map((c, index) => ({ index, ...c })) } : { role: 'assistant', content: message.content }, finish_reason: null }] };
        const end = { id: `c${turn}`, object: 'chat.completion.chunk', model: 'bench', choices: [{ index: 0, delta: {}, finish_reason: finish }], usage: { prompt_tokens: 100, completion_tokens: 10 } };
        res.end(`data: ${JSON.stringify(chunk)}\n\ndata: ${JSON.stringify(end)}\n\ndata: [DONE]\n\n`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `c${turn}`, object: 'chat.completion', model: 'bench', choices: [{ index: 0, message, finish_reason: finish }], usage: { prompt_tokens: 100, completion_tokens: 10 } }));
      }
    }, latencyMs);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
