// The queue key and the MACs made with it: a key that never shows itself, a canonical form that
// one value always has, and signatures that hold only for the message and place they were made for.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { parseRedisUrl } from './connection.ts';
import { canonicalJson, checkQueueTrust, checkSignature, jobRefusal, QueueKey, queueKeyFrom, resultRefusal, signed } from './signing.ts';

const SECRET = 'k3y-0f-the-queue-7f1c9a2e5b';
const key = new QueueKey(SECRET);
const binding = { queue: 'rollouts-0123456789abcdef', jobId: 'ro_a' };

describe('the queue key', () => {
  it('never shows itself: printed, inspected, as JSON or in an error', () => {
    for (const text of [String(key), `${key}`, inspect(key), inspect({ key }), JSON.stringify({ key }), JSON.stringify(key)]) assert.ok(!text.includes(SECRET), text);
    assert.equal(JSON.stringify({ key }), '{"key":"[queue key]"}');
  });

  it('is read from GAUNTLET_QUEUE_KEY; unset is no key, and an unusable one is refused naming the variable but never quoting it', () => {
    assert.equal(queueKeyFrom({}), undefined);
    assert.ok(queueKeyFrom({ GAUNTLET_QUEUE_KEY: SECRET }) instanceof QueueKey);
    for (const [bad, problem] of [
      ['', /is set but empty/],
      ['short-key', /is 9 characters long \(expected a secret of at least 16 characters/],
      [`${SECRET}\n`, /leading or trailing whitespace/],
    ] as const) {
      assert.throws(
        () => queueKeyFrom({ GAUNTLET_QUEUE_KEY: bad }),
        (e: unknown) => e instanceof InputError && e.where === 'GAUNTLET_QUEUE_KEY' && problem.test(e.message) && (bad.trim() === '' || !e.message.includes(bad.trim())),
        JSON.stringify(bad),
      );
    }
  });

  it('redacts itself from text, as written and as JSON escapes it', () => {
    const odd = new QueueKey('quote"and\\backslash-key');
    assert.equal(odd.redact(JSON.stringify({ said: 'quote"and\\backslash-key' })), '{"said":"***"}');
    assert.equal(key.redact(`the key is ${SECRET}.`), 'the key is ***.');
  });
});

describe('canonical JSON', () => {
  it('is one text for one value, whatever the order of its keys, leaving out undefined members as JSON does', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: undefined }], c: 'é' } }), '{"a":{"c":"é","d":[1,{"y":2}]},"b":1}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson(JSON.parse('{"b":2,"a":1}')));
    assert.equal(canonicalJson({ 10: 'x', 9: 'y', a: [undefined] }), '{"10":"x","9":"y","a":[null]}');
  });
});

describe('signatures', () => {
  const body = { runId: 'run_1', rolloutId: 'ro_a', n: 1, nested: { list: [1, 2, 3] } };

  it('hold for the message as BullMQ reads it back, and only with the key, the purpose, the queue and the job id they were made for', () => {
    const message = signed(key, 'job', binding, body);
    const readBack: unknown = JSON.parse(JSON.stringify(message));
    assert.equal(checkSignature(key, 'job', binding, readBack), 'valid');
    assert.equal(checkSignature(new QueueKey('another-key-of-16-chars'), 'job', binding, readBack), 'mismatch');
    assert.equal(checkSignature(key, 'result', binding, readBack), 'mismatch', 'a job is no result');
    assert.equal(checkSignature(key, 'job', { ...binding, jobId: 'ro_b' }, readBack), 'mismatch', 'under another rollout');
    assert.equal(checkSignature(key, 'job', { ...binding, queue: 'rollouts-fedcba9876543210' }, readBack), 'mismatch', 'on another queue');
    assert.equal(checkSignature(key, 'job', binding, { ...message, n: 2 }), 'mismatch', 'altered');
    assert.equal(checkSignature(key, 'job', binding, { ...message, extra: true }), 'mismatch', 'a field added');
    assert.equal(checkSignature(key, 'job', binding, body), 'missing');
    assert.equal(checkSignature(key, 'job', binding, { ...body, signature: { scheme: 'hmac-sha256', mac: 'zz' } }), 'mismatch');
    assert.equal(checkSignature(key, 'job', binding, { ...body, signature: 'yes' }), 'mismatch');
    assert.equal(checkSignature(key, 'job', binding, null), 'missing');
  });

  it('replace an earlier signature when signed again', () => {
    const other = new QueueKey('another-key-of-16-chars');
    const again = signed(key, 'job', binding, signed(other, 'job', binding, body));
    assert.equal(checkSignature(key, 'job', binding, again), 'valid');
  });

  it('tell a worker why it must not run a job, naming the job and run, and which refusals another worker may overcome', () => {
    const job = (data: unknown) => ({ id: 'ro_a', queueName: binding.queue, data });
    assert.equal(jobRefusal(undefined, job(body)), null, 'no key anywhere: Redis is trusted');
    assert.equal(jobRefusal(key, job(signed(key, 'job', binding, body))), null);
    const unsigned = jobRefusal(key, job(body));
    assert.equal(unsigned?.final, true);
    assert.match(unsigned?.message ?? '', /^job ro_a of run run_1 on rollouts-0123456789abcdef refused: it is unsigned.*set GAUNTLET_QUEUE_KEY to this worker's key in the coordinator's environment and resume the run \(--resume run_1\)/);
    const forged = jobRefusal(key, job(signed(new QueueKey('another-key-of-16-chars'), 'job', binding, body)));
    assert.equal(forged?.final, true);
    assert.match(forged?.message ?? '', /refused: its signature does not match this worker's GAUNTLET_QUEUE_KEY/);
    const keyless = jobRefusal(undefined, job(signed(key, 'job', binding, body)));
    assert.equal(keyless?.final, false, 'a worker holding the key may take it');
    assert.match(keyless?.message ?? '', /is signed: its coordinator holds GAUNTLET_QUEUE_KEY .*this worker has none; set GAUNTLET_QUEUE_KEY/);
    for (const refusal of [unsigned, forged, keyless]) assert.ok(!refusal!.message.includes(SECRET));
  });

  it('tell a coordinator why it must not store a result; a keyless one trusts Redis', () => {
    const results = { id: 'ro_a', queueName: 'results-run_1' };
    const envelope = { protocol: 1, rolloutId: 'ro_a', attempt: 1, worker: 'w', payload: '{}' };
    assert.equal(resultRefusal(undefined, { ...results, data: envelope }), null);
    assert.equal(resultRefusal(key, { ...results, data: signed(key, 'result', { queue: results.queueName, jobId: 'ro_a' }, envelope) }), null);
    assert.match(resultRefusal(key, { ...results, data: envelope }) ?? '', /is unsigned, and this coordinator holds GAUNTLET_QUEUE_KEY/);
    assert.match(resultRefusal(key, { ...results, data: signed(key, 'result', { queue: 'results-run_2', jobId: 'ro_a' }, envelope) }) ?? '', /does not match/);
  });
});

describe('a queue beyond this machine', () => {
  it('needs the key or to be trusted by name; on loopback neither', () => {
    for (const url of ['redis://127.0.0.1:6379', 'redis://127.8.0.1', 'redis://localhost:6380/2', 'redis://[::1]:6379']) {
      for (const role of ['worker', 'coordinator'] as const) checkQueueTrust({ redis: parseRedisUrl(url), key: undefined, trustRedis: undefined, role });
    }
    const beyond = parseRedisUrl('redis://ops:pw-not-shown@queue.example:6379/1');
    checkQueueTrust({ redis: beyond, key, trustRedis: undefined, role: 'worker' });
    checkQueueTrust({ redis: beyond, key: undefined, trustRedis: true, role: 'coordinator' });
    for (const [url, role, risk] of [
      ['redis://ops:pw-not-shown@queue.example:6379/1', 'worker', /could make this worker call any endpoint with its API keys or start MCP commands/],
      ['redis://10.0.0.7', 'coordinator', /could hand this run results it cannot tell from a worker's/],
      ['rediss://[2001:db8::1]:6380', 'worker', /could make this worker/],
    ] as const) {
      assert.throws(
        () => checkQueueTrust({ redis: parseRedisUrl(url), key: undefined, trustRedis: false, role }),
        (e: unknown) =>
          e instanceof InputError &&
          e.where === '--queue' &&
          /is not on this machine and GAUNTLET_QUEUE_KEY is not set/.test(e.message) &&
          risk.test(e.message) &&
          /--trust-redis/.test(e.message) &&
          !e.message.includes('pw-not-shown'),
        url,
      );
    }
  });
});
