import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { getEnvironment, instantiate } from './index.ts';
import { parseTaskPart } from './parsed.ts';

const Shape = z.object({ names: z.array(z.string()).default([]), limit: z.number().optional() });

describe('task parts parsed once', () => {
  it('keeps the first parse of an object for each schema and parses other objects anew', () => {
    let runs = 0;
    const counted = Shape.transform((v) => (runs++, v));
    const part = { names: ['a'] };
    const first = parseTaskPart(counted, part);
    const again = parseTaskPart(counted, part);
    assert.equal(runs, 1);
    assert.equal(again, first);
    assert.ok(first.success);
    parseTaskPart(counted, { names: ['a'] });
    assert.equal(runs, 2, 'an equal but different object is parsed on its own');
    assert.ok(parseTaskPart(Shape, part).success, 'another schema parses the same object anew');
  });

  it('freezes the part and the parsed data, so one episode cannot change what the next sees', () => {
    const part = { names: ['a', 'b'], limit: 3 };
    const result = parseTaskPart(Shape, part);
    assert.ok(result.success);
    assert.throws(() => (result.data.names as string[]).push('c'), TypeError);
    assert.throws(() => {
      part.names.push('c');
    }, TypeError);
    assert.deepEqual(parseTaskPart(Shape, part).success && parseTaskPart(Shape, part).data, { names: ['a', 'b'], limit: 3 });
  });

  it('freezes what lies below a part that was frozen only at its top', () => {
    const inner = { names: ['a'] };
    const part = Object.freeze({ inner });
    parseTaskPart(z.object({ inner: Shape }), part);
    assert.ok(Object.isFrozen(inner) && Object.isFrozen(inner.names));
  });

  it('keeps a failed parse too, with its issues', () => {
    const bad = { names: [1] };
    const result = parseTaskPart(Shape, bad);
    assert.equal(result.success, false);
    assert.equal(parseTaskPart(Shape, bad), result);
  });

  it('parses primitives every time and keeps nothing for them', () => {
    assert.equal(parseTaskPart(z.number(), 3).success, true);
    assert.equal(parseTaskPart(z.number(), 'x').success, false);
  });

  it('lets a part be parsed from a value made anew on each call', () => {
    const entry = { check: 'x', names: ['a'] };
    const { check: _check, ...first } = entry;
    const a = parseTaskPart(Shape, first, entry);
    const { check: _again, ...second } = entry;
    assert.equal(parseTaskPart(Shape, second, entry), a);
  });

  it('gives every episode of a task the same world and verdict as a fresh parse would', async () => {
    const definition = getEnvironment('mail');
    const task = definition.tasks()[0]!;
    const verdicts: unknown[] = [];
    for (let round = 0; round < 2; round++) {
      const env = instantiate(definition);
      await env.reset(task, { seed: 7 });
      const listed = await env.call('list_folders', {}, { signal: new AbortController().signal });
      const verdict = await env.verify({ answer: 'Done.' });
      verdicts.push({ listed, verdict });
      await env.close();
    }
    assert.deepEqual(verdicts[1], verdicts[0]);
    assert.ok(Object.isFrozen(task.initialState), 'the task part is kept frozen after its first episode');
  });
});
