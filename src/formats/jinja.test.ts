// The chat-template runtime against Python Jinja2 3.1.6 set up as transformers sets it up
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, transformers'
// `tojson` and `raise_exception`). Every expected string below is what Jinja2 printed for the
// same template; the tests do not run Python.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ChatMessage, ChatTool } from './chat.ts';
import { compileTemplate } from './jinja-syntax.ts';
import { createChatTemplate, loadChatTemplate, renderProgram, type RenderResult } from './template.ts';

const TEMPLATES = new URL('../../test/fixtures/formats/templates/', import.meta.url).pathname;

function render(source: string, vars: Record<string, unknown> = {}): RenderResult {
  return createChatTemplate(source).render({ messages: [{ role: 'user', content: 'hi' }], vars });
}

/** Each template prints exactly what Jinja2 printed. */
function expectPrints(cases: readonly (readonly [string, string])[]): void {
  for (const [source, expected] of cases) {
    const result = render(source);
    assert.ok(result.ok, `${source}: ${result.ok ? '' : result.message}`);
    assert.equal(result.text, expected, source);
  }
}

/** Each template fails as a run-time error ending in the message Jinja2 (Python) gave. */
function expectFails(cases: readonly (readonly [string, string])[]): void {
  for (const [source, message] of cases) {
    const result = render(source);
    assert.ok(!result.ok, `${source} should fail`);
    assert.equal(result.kind, 'runtime', result.message);
    assert.ok(result.message.endsWith(`: ${message}`), `${source}: ${result.message}`);
  }
}

describe("Python's % formatting", () => {
  it('formats tuples, dicts and single values with flags, widths, precisions, %r and %a, rounding half to even', () => {
    expectPrints([
      ["{{ '%s|%d|%i|%.2f|%5s|%-5s|' % ('a', 3.7, -2, 3.14159, 'b', 'c') }}", 'a|3|-2|3.14|    b|c    |'],
      ["{{ '%r %r %r %a' % ('x', 2.0, none, 'é') }}", "'x' 2.0 None '\\xe9'"],
      ["{{ '%s and %s' % (1, none) }}|{{ '%s' % [1, 'a'] }}|{{ '%s' % {'a': 1.5} }}|{{ '%s' % (7,) }}|{{ '100%%' % () }}", "1 and None|[1, 'a']|{'a': 1.5}|7|100%"],
      ["{{ '%x %X %#x %#o %o %e %E %g %G %c %c' % (255, 255, 255, 8, 8, 12345.678, 0.000123, 0.0001, 1e-10, 65, 'z') }}", 'ff FF 0xff 0o10 10 1.234568e+04 1.230000E-04 0.0001 1E-10 A z'],
      ["{{ '%(name)s is %(age)d' % {'name': 'Ann', 'age': 41.9} }}", 'Ann is 41'],
      ["{{ '%05.1f|%+d|% d|%08.3f|%-8d|%+.2e|%*d|%.*f' % (3.14159, 5, 5, -3.14159, 5, 12345, 5, 3, 2, 2.5) }}", '003.1|+5| 5|-003.142|5       |+1.23e+04|    3|2.50'],
      ["{{ '%.0f %.0f %.0f %.2f %.2f %.1f %.3f' % (0.5, 1.5, 2.5, 0.125, 0.375, 0.25, 2.0005) }}", '0 2 2 0.12 0.38 0.2 2.001'],
      ["{{ '%s %s %s %s' % (0.1, 1.0, 1e16, 1e-05) }}|{{ '%d' % 100000000000000000000 }}|{{ '%.3s|%5.2s|' % ('abcdef', 'abc') }}", '0.1 1.0 1e+16 1e-05|100000000000000000000|abc|   ab|'],
      ["{{ '%g %g %g %#g %.3g' % (100000.0, 1000000.0, 1234567, 1.0, 0.0001234) }}", '100000 1e+06 1.23457e+06 1.00000 0.000123'],
      ["{{ '%s - %s' | format('a', 1.0) }}|{{ '%(x)s' | format(x=2) }}", 'a - 1.0|2'],
    ]);
  });

  it('rejects what Python rejects, with its message', () => {
    expectFails([
      ["{{ '%s %s' % 'ab' }}", 'not enough arguments for format string'],
      ["{{ '%s' % (1, 2) }}", 'not all arguments converted during string formatting'],
      ["{{ '%d' % 'x' }}", '%d format: a real number is required, not str'],
      ["{{ '%z' % 1 }}", "unsupported format character 'z' (0x7a) at index 1"],
      ["{{ '%(a)s' % 5 }}", 'format requires a mapping'],
      ["{{ '%x' % 3.5 }}", '%x format: an integer is required, not float'],
      ["{{ '%' % 1 }}", 'incomplete format'],
    ]);
  });
});

describe("Python's str.format", () => {
  it('fills automatic, numbered, named and indexed fields with conversions, nested specs and the format-spec mini-language', () => {
    expectPrints([
      ["{{ '{} {}'.format(1, 'a') }}|{{ '{0}{1}{0}'.format('a', 'b') }}|{{ '{name}!'.format(name='x') }}|{{ '{{}} {{x}}'.format() }}", '1 a|aba|x!|{} {x}'],
      ["{{ '{:>5}|{:<5}|{:^5}|{:*^9}|{:5}|{:5}|'.format('a', 'b', 'c', 'ab', 'ab', 12) }}", '    a|b    |  c  |***ab****|ab   |   12|'],
      ["{{ '{:.2f}|{:.3}|{:.3}|{:.2}|{:.0}|{:e}|{:g}|{:%}|{:.1%}'.format(3.14159, 3.14159, 123.0, 12.0, 1.5, 12345.678, 0.00001, 0.25, 0.12345) }}", '3.14|3.14|1.23e+02|1.2e+01|2e+00|1.234568e+04|1e-05|25.000000%|12.3%'],
      ["{{ '{}|{}|{}|{}|{}|{}'.format(1.0, none, true, [1, 'a'], 1e16, -0.0) }}", "1.0|None|True|[1, 'a']|1e+16|-0.0"],
      ["{{ '{:d}|{:05d}|{:,}|{:_b}|{:#x}|{:X}|{:o}|{:#010x}|{:=+8}|{:08}|{:+}|{: }'.format(3, 42, 1234567, 255, 255, 255, 8, 255, -5, -5, 3, 3.5) }}", '3|00042|1,234,567|1111_1111|0xff|FF|10|0x000000ff|-      5|-0000005|+3| 3.5'],
      ["{{ '{0!r}|{2!s:>5}|{3!a}|{0[a]}|{1[1]}|{1[0]}|{0.a}'.format({'a': 1}, [5, 6], 7, 'é') }}", "{'a': 1}|    7|'\\xe9'|1|6|5|1"],
      ["{{ '{0:{w}.{p}f}|{0:>{1}}|{1:{2}>{3}}'.format(3.14159, 6, '*', 4, w=8, p=2) }}", '    3.14|3.14159|***6'],
      ["{{ '{:>5}|{:d}|{:.2f}|{:,.2f}'.format(true, true, 5, 1234567.891) }}", '    1|1|5.00|1,234,567.89'],
      ["{{ '{:010,}|{:09,}|{:#012_x}|{:010,.1f}|{:z.1f}|{:z}'.format(1234, -1234, 255, 1234.5, -0.01, -0.0) }}", '00,001,234|-0,001,234|0x0_0000_00ff|0,001,234.5|0.0|0.0'],
    ]);
  });

  it("rejects bad fields and specs with Python's message", () => {
    expectFails([
      ["{{ '{} {}'.format(1) }}", 'tuple index out of range'],
      ["{{ '{:d}'.format('a') }}", "Unknown format code 'd' for object of type 'str'"],
      ["{{ '{:s}'.format(1) }}", "Unknown format code 's' for object of type 'int'"],
      ["{{ '{:>5}'.format(none) }}", 'unsupported format string passed to NoneType.__format__'],
      ["{{ '}'.format() }}", "Single '}' encountered in format string"],
      ["{{ '{0} {}'.format(1, 2) }}", 'cannot switch from manual field specification to automatic field numbering'],
      ["{{ '{x}'.format() }}", "'x'"],
      ["{{ '{:d}'.format(1.5) }}", "Unknown format code 'd' for object of type 'float'"],
    ]);
  });
});

describe('repetition with *', () => {
  it('repeats strings, lists and tuples either way round', () => {
    expectPrints([
      ["{{ 'ab' * 3 }}|{{ 3 * 'ab' }}|{{ [1, 'a'] * 2 }}|{{ 'x' * 0 }}|{{ 'x' * -1 }}|{{ 'x' * true }}|{{ (1,) * 2 }}|{{ 2 * [0] }}|{{ '-' * 5 }}", "ababab|ababab|[1, 'a', 1, 'a']|||x|(1, 1)|[0, 0]|-----"],
    ]);
    expectFails([
      ["{{ 'x' * 2.0 }}", "can't multiply sequence by non-int of type 'float'"],
      ["{{ 'a' * 'b' }}", "can't multiply sequence by non-int of type 'str'"],
      ['{{ none * 2 }}', "unsupported operand type(s) for *: 'NoneType' and 'int'"],
    ]);
  });

  it('stops a repetition or padding past the render limits before building it', () => {
    for (const [source, message] of [
      ["{{ 'ab' * 100000000 }}", /built a string of 200,000,000 characters/],
      ['{{ [0] * 10000000 }}', /built a list of 10,000,000 items/],
      ["{{ '%999999999d' % 1 }}", /built a string of 999,999,999 characters/],
      ["{{ '{:>999999999}'.format(1) }}", /built a string of 999,999,999 characters/],
    ] as const) {
      const result = render(source);
      assert.ok(!result.ok && result.kind === 'limit', source);
      assert.match(result.message, message);
    }
  });
});

describe('numbers', () => {
  it("prints floats as Python's repr: literals (with exponents), true division and arithmetic with a float", () => {
    expectPrints([
      ['{{ 1.0 }}|{{ 3 / 1 }}|{{ 10 // 3 }}|{{ 2.5 * 2 }}|{{ 7.5 // 2 }}|{{ 2 ** -1 }}|{{ 0.1 + 0.2 }}|{{ -0.0 }}|{{ 1 / 3 }}', '1.0|3.0|3|5.0|3.0|0.5|0.30000000000000004|-0.0|0.3333333333333333'],
      ['{{ 1e16 }}|{{ 1.0e-5 }}|{{ 2.5e-3 }}|{{ 1E+2 }}|{{ 1e300 * 1e10 }}|{{ -1e300 * 1e10 }}|{{ 123456789.123456789 }}|{{ 100000000000000000000 }}', '1e+16|1e-05|0.0025|100.0|inf|-inf|123456789.12345679|100000000000000000000'],
      ["{{ [1.0, 2.5, 1e16, 1e-5] }}|{{ {'a': 1.0} }}|{{ 2.0 | string }}|{{ 'x' ~ 2.0 }}|{{ 2 | float }}", "[1.0, 2.5, 1e+16, 1e-05]|{'a': 1.0}|2.0|x2.0|2.0"],
      ["{{ 1.0 | tojson }}|{{ [1.0, 2.5, 1e16, 1e-05, 3] | tojson }}|{{ (1e300 * 1e10) | tojson }}|{{ {'b': 0.5, 'a': [2.0]} | tojson(indent=2, sort_keys=true) }}", '1.0|[1.0, 2.5, 1e+16, 1e-05, 3]|Infinity|{\n  "a": [\n    2.0\n  ],\n  "b": 0.5\n}'],
      ['{{ -7 % 3 }}|{{ 7 % -3 }}|{{ -7.5 % 2 }}|{{ 7.5 % 2 }}|{{ -7 // 2 }}|{{ 6 % 3.0 }}', '2|-2|0.5|1.5|-4|0.0'],
    ]);
  });

  it('refuses division by zero as Python does', () => {
    expectFails([
      ['{{ 5 / 0 }}', 'division by zero'],
      ['{{ 5 // 0 }}', 'integer division or modulo by zero'],
      ['{{ 5 % 0 }}', 'integer modulo by zero'],
      ['{{ 5.0 / 0 }}', 'float division by zero'],
      ['{{ 5.0 % 0 }}', 'float modulo'],
    ]);
  });

  it("rounds as Jinja2's round filter does (Python's round, half to even on the exact value; ceil and floor give floats), and reads 1_000", () => {
    expectPrints([
      ['{{ 2.567 | round }}|{{ 2.567 | round(2) }}|{{ 2.5 | round }}|{{ 3.5 | round }}|{{ -2.5 | round }}|{{ -2.567 | round(2) }}|{{ 2.675 | round(2) }}', '3.0|2.57|2.0|4.0|-2.0|-2.57|2.67'],
      ["{{ 1234.5 | round(-2) }}|{{ 1250 | round(-2) }}|{{ 7 | round }}|{{ 7 | round(0, 'ceil') }}|{{ 2.567 | round(1, 'floor') }}", '1200.0|1200|7|7.0|2.5'],
      ['{{ 1_000 }}|{{ 1_000_000 + 1 }}', '1000|1000001'],
    ]);
  });

  it('reads numbers from the conversation as JavaScript holds them: integral ones are ints, the rest floats', () => {
    // JSON's 2.0 is the JavaScript number 2, so a value sent as 2.0 prints (and tojson-s) as 2
    // (tool-call arguments excepted: they are read from the text the model wrote, template.test.ts).
    const result = render('{{ whole }}|{{ whole | tojson }}|{{ half }}|{{ half | tojson }}|{{ whole / 1 }}|{{ big }}', { whole: 2.0, half: 2.5, big: 1e21 });
    assert.deepEqual(result, { ok: true, text: '2|2|2.5|2.5|2.0|1000000000000000000000', templateName: 'default' });
  });
});

describe('strings, dicts and tests', () => {
  it("centers as str.center, sorts dicts into (key, value) tuples, and counts booleans as numbers as Python does", () => {
    expectPrints([
      ["{{ 'ab' | center(6) }}|{{ 'abc' | center(6) }}|{{ 'abc' | center(7) }}|{{ 'ab' | center(7) }}|{{ 'toolong' | center(3) }}|", '  ab  | abc  |  abc  |   ab  |toolong|'],
      ["{{ {'b': 1, 'a': 2} | dictsort }}|{{ {'b': 1, 'a': 2} | dictsort(reverse=true) }}|{% for k, v in {'b': 1, 'A': 2, 'a': 3} | dictsort %}{{ k }}={{ v }};{% endfor %}", "[('a', 2), ('b', 1)]|[('b', 1), ('a', 2)]|A=2;a=3;b=1;"],
      ['{{ true is number }}|{{ false is number }}|{{ true is not number }}|{{ true is integer }}|{{ 1.5 is integer }}', 'True|True|False|False|False'],
    ]);
  });
});

describe('comparisons and tuples', () => {
  it("compares with Python's == and in (1 is not '1', lists by value), orders strings and lists, and reads () and (x,)", () => {
    expectPrints([
      ["{{ 1 == '1' }}|{{ [1, 2] == [1, 2] }}|{{ {'a': [1]} == {'a': [1]} }}|{{ (1, 2) == [1, 2] }}|{{ 1 == 1.0 }}|{{ true == 1 }}|{{ none == undefined_name }}|{{ none in [none] }}|{{ 1 in [true] }}|{{ 'a' < 'b' }}|{{ [1, 2] < [1, 3] }}|{{ 'ab' in 'cab' }}|{{ 'k' in {'k': 1} }}", 'False|True|True|False|True|True|False|True|True|True|True|True|True'],
      ['{{ () }}|{{ (1,) }}|{{ (1, 2,) }}|{{ ((1,),) }}|{{ 1 in (1,) }}', '()|(1,)|(1, 2)|((1,),)|True'],
    ]);
    expectFails([
      ["{{ 1 in 'abc' }}", "'in <string>' requires string as left operand, not int"],
      ["{{ 'a' in none }}", "argument of type 'NoneType' is not iterable"],
      ["{{ 'a' < 1 }}", "'<' not supported between instances of 'str' and 'int'"],
    ]);
  });
});

describe('loops', () => {
  it("keeps one loop object per loop and starts each iteration without the previous one's sets, as Jinja2 does", () => {
    expectPrints([
      ['{% set ns = namespace(l=none) %}{% for i in [1, 2] %}{% if i == 2 %}{{ ns.l.index }}{% endif %}{% set ns.l = loop %}{% endfor %}', '2'],
      ['{% for i in [1, 2] %}{% if i == 2 %}[{{ x }}]{% endif %}{% set x = i %}{% endfor %}', '[]'],
      ["{% for c in 'ab' %}{{ loop.index }}{{ c }}{{ loop.cycle('-', '+') }}{% endfor %}|{% for x in undefined_name %}{% else %}empty{% endfor %}|{% for a, b in ['xy', [1, 2]] %}{{ b }}{% endfor %}", '1a-2b+|empty|y2'],
      ['{% for x in [1] %}{% break %}{% else %}E{% endfor %}|{% for x in [1, 2] %}{% if x == 1 %}{% continue %}{% endif %}{% else %}E{% endfor %}|{% for x in [] %}{% else %}E{% endfor %}', 'E||E'],
      ['{% for x in [1, 2, 3] if x > 1 %}{{ loop.index }}/{{ loop.length }}{{ loop.first }}{{ loop.last }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.revindex }};{% endfor %}', '1/2TrueFalse32;2/2FalseTrue21;'],
    ]);
    expectFails([
      ['{% for x in none %}{% endfor %}', "'NoneType' object is not iterable"],
      ['{% for x in 5 %}{% endfor %}', "'int' object is not iterable"],
      ['{% for a, b in [[1]] %}{% endfor %}', 'not enough values to unpack (expected 2, got 1)'],
    ]);
  });
});

describe('run-time errors name their line', () => {
  it("places a failure on the line Jinja2's traceback names, with the tag it failed in", () => {
    for (const [source, line, tag] of [
      ["a\nb\n{{ 1 + 'x' }}\n", 3, '{{ 1 + "x" }}'],
      ["{% for m in messages %}\n  {% if m.role == 'user' %}\n    {{ m.content + 1 }}\n  {% endif %}\n{% endfor %}", 3, '{{ m.content + 1 }}'],
      ["{% macro f(x) %}\n{{ x.y + 1 }}\n{% endmacro %}\nhello\n{{ f({'y': 'a'}) }}", 2, '{{ x.y + 1 }}'],
      ["{% if false %}\nx\n{% elif 1 + 'a' %}\ny\n{% endif %}", 3, '{% elif 1 + "a" %}'],
      ['{% for x in [1] %}\n{% else %}\n{% endfor %}\n{% set y = 1 %}\n{{ y ~ (none + 1) }}', 5, '{{ y ~ (none + 1) }}'],
      ['{# a\nmulti-line\ncomment #}{{ 5 // 0 }}', 3, '{{ 5 // 0 }}'],
      ['{%- set x %}\nabc\n{{ [1][0] + none }}\n{%- endset %}', 3, '{{ [1][0] + none }}'],
      ["line1\n{{ 'ok' }}{{ 'also' }}{{ 1 * none }}", 2, '{{ 1 * none }}'],
      ["{{ 'a\nb' ~ 1 }}\n{{ 1 < 'x' }}", 3, '{{ 1 < "x" }}'],
      ['{% set ns = namespace(a=1) %}\n{% for x in 5 %}\n{% endfor %}', 2, '{% for x in 5 %}'],
      ["{% filter upper %}\nabc {{ 1 - 'a' }}\n{% endfilter %}", 2, '{{ 1 - "a" }}'],
    ] as const) {
      const result = render(source);
      assert.ok(!result.ok && result.kind === 'runtime', source);
      assert.equal(result.line, line, `${source}: ${result.message}`);
      assert.ok(result.message.startsWith(`inline template: line ${line}: rendering failed in ${tag}: `), result.message);
    }
  });

  it('names the line in a published template, and where a limit stopped the render', async () => {
    const gptOss = await loadChatTemplate(`${TEMPLATES}gpt-oss/chat_template.jinja`, { now: () => new Date(2026, 0, 5) });
    const result = gptOss.render({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] as unknown as ChatMessage[] });
    assert.ok(!result.ok && result.line === 324, result.ok ? '' : result.message);
    assert.match(result.message, /chat_template\.jinja: line 324: rendering failed in \{\{ "<\|start\|>user<\|message\|>" \+ message\.content \+ "<\|end\|>" \}\}: can only concatenate str \(not "list"\) to str$/);
    const loop = createChatTemplate('ok\n{% for i in range(100000) %}\n{{ i }}\n{% endfor %}', { limits: { maxSteps: 1000 } }).render({ messages: [] });
    assert.ok(!loop.ok && loop.kind === 'limit' && loop.line === 2, loop.ok ? '' : loop.message);
    assert.match(loop.message, /evaluation steps .*\(at line 2, in \{% for i in range\(100000\) %\}\)$/);
  });
});

describe('published templates at length', () => {
  const tools: ChatTool[] = [
    { type: 'function', function: { name: 'run_tests', description: 'Run the tests.', parameters: { type: 'object', properties: { paths: { type: 'array', items: { type: 'string' } }, timeout_s: { type: 'number', default: 30.5 }, retries: { type: 'integer' } }, required: ['paths'] } } },
  ];
  /** An agent's rollout: a tool call and its result per turn, then a final answer. */
  function rollout(turns: number): ChatMessage[] {
    const messages: ChatMessage[] = [{ role: 'system', content: 'You are a careful coding agent.' }, { role: 'user', content: 'Fix the failing test.' }];
    for (let i = 0; i < turns; i++) {
      const thought = `Turn ${i}: check the parser.`;
      const call = { id: `call_${i}`, type: 'function' as const, function: { name: 'run_tests', arguments: { paths: [`src/t${i}.test.ts`], timeout_s: 30.5, retries: i % 4 } } };
      messages.push({ role: 'assistant', content: '', reasoning_content: thought, thinking: thought, tool_calls: [call] } as ChatMessage);
      messages.push({ role: 'tool', content: `ok: ${i} passed`, tool_call_id: `call_${i}`, name: 'run_tests' });
    }
    messages.push({ role: 'assistant', content: 'All tests pass.', reasoning_content: 'Done.', thinking: 'Done.' } as ChatMessage);
    return messages;
  }

  it('renders a 60-turn rollout byte for byte as Jinja2 does (sha256 of its output)', async () => {
    const jinja2: Record<string, string> = {
      'gpt-oss': '2d4e03e12184b997b9aaab2e76823f96bdb52084d9ecf414d7231da1d9a3d1bb',
      'glm-4.6': '24f2e0bd508844033843f9fb4a4767769439f2560f9bc0d4ebc5bc2255abf0f3',
      'kimi-k2-instruct': '60b390f603b5c9d12b4b49a6aee4632ae9eb8713c2ab98190bee501f8a9e61fe',
      'kimi-k2-thinking': '914395c93e2ff468f4955bdf34400b89e9c8026c5f747b203badf357c7025bc6',
      'qwen3-coder': 'c1c99fbb8c09d76a200915b78d9459f16cf67cbbad9125d97d1578e378196d4c',
    };
    for (const [model, digest] of Object.entries(jinja2)) {
      const template = await loadChatTemplate(`${TEMPLATES}${model}/chat_template.jinja`, { now: () => new Date(2026, 0, 5) });
      const result = template.render({ messages: rollout(60), tools });
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.equal(createHash('sha256').update(result.text).digest('hex'), digest, model);
    }
  });

  it("costs steps in proportion to the turns, except gpt-oss's, which rescans the rest of the conversation per tool call as it does in Jinja2", () => {
    const steps = (model: string, turns: number): number => {
      const { program } = compileTemplate(readFileSync(`${TEMPLATES}${model}/chat_template.jinja`, 'utf8'));
      return renderProgram(program, { messages: rollout(turns), tools }, { now: () => new Date(2026, 0, 5) }).steps;
    };
    for (const model of ['glm-4.6', 'kimi-k2-thinking', 'qwen3-coder']) {
      const growth = steps(model, 200) / steps(model, 100);
      assert.ok(growth > 1.9 && growth < 2.1, `${model}: ${growth.toFixed(2)}× the steps for twice the turns`);
    }
    // The template's own loop is quadratic (Jinja2's render time grows 3.4× from 200 to 400 turns too).
    const gptOss = steps('gpt-oss', 200) / steps('gpt-oss', 100);
    assert.ok(gptOss > 3 && gptOss < 4, `gpt-oss: ${gptOss.toFixed(2)}×`);
  });
});
