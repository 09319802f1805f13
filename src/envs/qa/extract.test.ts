import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractChoice, extractFinalNumber, foldText, numberMatches, wordCount } from './extract.ts';

const read = (text: string) => extractFinalNumber(text)?.value ?? null;

describe('extractFinalNumber', () => {
  it('reads the number a worked answer settles on', () => {
    assert.equal(read('The answer is 1,234.5.'), 1234.5);
    assert.equal(read('2x + 1.00 = 1.10, so x = 0.05. The answer is 5 cents.'), 5);
    assert.equal(read('It takes 2 hours, 240 km from the station'), 240);
    assert.equal(read('$5,624.32'), 5624.32);
    assert.equal(read('Answer: 42 (found in 3 steps)'), 42);
    assert.equal(read('We get \\boxed{17} after checking 4 cases'), 17);
    assert.equal(read('1,000,000'), 1_000_000);
    assert.equal(read('about 1.5e-3'), 0.0015);
  });

  it('reads signs without mistaking ranges, ids or versions for negatives', () => {
    assert.equal(read('It fell to −12 degrees'), -12);
    assert.equal(read('The change is -3.5%'), -3.5);
    assert.equal(read('between 3-5'), 5);
    assert.equal(read('order A-1042'), 1042);
    assert.equal(read('v1.2 is out'), null);
  });

  it('reads fractions, LaTeX fractions and percentages', () => {
    assert.ok(Math.abs((read('The probability is 6/36 = 1/6.') ?? 0) - 1 / 6) < 1e-12);
    assert.equal(read('\\frac{3}{4}'), 0.75);
    assert.equal(read('-3/4'), -0.75);
    const pct = extractFinalNumber('a rise of 12.5%');
    assert.deepEqual(pct, { value: 12.5, text: '12.5%', percent: true });
    assert.equal(read('1/0 is undefined'), null);
  });

  it('reads the first number after the last answer marker, and emphasis does not hide it', () => {
    assert.equal(read('First answer: 3. On reflection the answer is **7**, not 9'), 7);
    assert.equal(read('The answer is unclear; maybe 12'), 12);
  });

  it('finds nothing in a reply without digits', () => {
    assert.equal(extractFinalNumber('Done.'), null);
    assert.equal(extractFinalNumber('twelve'), null);
  });
});

describe('numberMatches', () => {
  it('applies the tolerance and reads a percentage as a fraction too', () => {
    const pct = extractFinalNumber('45%')!;
    assert.ok(numberMatches(pct, 45, 0));
    assert.ok(numberMatches(pct, 0.45, 0));
    assert.ok(!numberMatches(pct, 0.4, 0.01));
    assert.ok(numberMatches(extractFinalNumber('0.1')!, 0.1, 0));
    assert.ok(numberMatches(extractFinalNumber('1/6')!, 0.16666667, 0.0005));
  });
});

describe('extractChoice', () => {
  it('finds the letter in the usual ways of answering', () => {
    assert.equal(extractChoice('C', 'ABCD'), 'C');
    assert.equal(extractChoice('(c).', 'ABCD'), 'C');
    assert.equal(extractChoice('**B**', 'ABCD'), 'B');
    assert.equal(extractChoice('Answer: D', 'ABCD'), 'D');
    assert.equal(extractChoice('Option A is tempting, but the answer is (C).', 'ABCD'), 'C');
    assert.equal(extractChoice('B) run_sql, because the data is in Postgres', 'ABCD'), 'B');
    assert.equal(extractChoice('I choose C.', 'ABCD'), 'C');
    assert.equal(extractChoice('Clearly (B) holds.', 'ABCD'), 'B');
  });

  it('picks nothing from replies that choose nothing, several letters or a letter out of range', () => {
    assert.equal(extractChoice('Done.', 'ABCD'), null);
    assert.equal(extractChoice('A cat sat down.', 'ABCD'), null);
    assert.equal(extractChoice('the answer is a trick question', 'ABCD'), null);
    assert.equal(extractChoice('Either (A) or (B).', 'ABCD'), null);
    assert.equal(extractChoice('E', 'ABCD'), null);
  });
});

describe('text helpers', () => {
  it('counts words with letters or digits only', () => {
    assert.equal(wordCount('- one two\n- three — 4'), 4);
    assert.equal(wordCount('   '), 0);
  });

  it('folds dashes, quotes, spacing and case', () => {
    assert.equal(foldText('It’s  A—B'), "it's a-b");
    assert.equal(foldText('It’s A', true), "It's A");
  });
});
