import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { prefixMergingBench, prefixMergingFigures } from './bench.ts';
import { buildPrefixTree } from './prefix-tree.ts';

/** The token trie, built the obvious way: one node per distinct prefix. */
function trieSize(sequences: number[][]): number {
  const prefixes = new Set<string>();
  for (const s of sequences) for (let i = 1; i <= s.length; i++) prefixes.add(s.slice(0, i).join(','));
  return prefixes.size;
}

describe('prefix tree', () => {
  it('counts each shared prefix once on a hand-made group', () => {
    const group = [
      [1, 2, 3, 4],
      [1, 2, 3, 5, 6],
      [1, 2, 7],
      [9],
    ];
    const tree = buildPrefixTree(group);
    // trie: 1-2-3-4, 3-5-6, 2-7, 9 → 8 nodes for 13 tokens
    assert.equal(tree.totalTokens, 13);
    assert.equal(tree.uniqueTokens, 8);
    assert.deepEqual(tree.links, [
      { parent: null, shared: 0 },
      { parent: 0, shared: 3 },
      { parent: 1, shared: 2 },
      { parent: null, shared: 0 },
    ]);
  });

  it('links only to a sequence that really holds the shared prefix, and its size is the trie size', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 }), { maxLength: 12 }), (group) => {
        const tree = buildPrefixTree(group);
        assert.equal(tree.uniqueTokens, trieSize(group));
        tree.links.forEach((link, i) => {
          if (link.parent === null) return;
          assert.deepEqual(group[link.parent]?.slice(0, link.shared), group[i]?.slice(0, link.shared));
        });
        // following parents never cycles
        for (let i = 0; i < group.length; i++) {
          const seen = new Set<number>();
          for (let at: number | null = i; at !== null; at = tree.links[at]?.parent ?? null) {
            assert.ok(!seen.has(at));
            seen.add(at);
          }
        }
      }),
    );
  });
});

describe('prefix-merging bench', () => {
  it('trains a drift-free trajectory at exactly its unique tokens, far below per-turn samples', () => {
    const [ten, thirty] = prefixMergingBench({ turns: [10, 30], groupSize: 3, promptTokens: 200 });
    for (const c of [ten!, thirty!]) {
      assert.equal(c.mergedTokens, c.uniqueTokens);
      assert.ok(c.mergedRatio <= 1.05);
      assert.ok(c.perCallRatio > 2, `per-turn samples repeat the history: ${c.perCallRatio}`);
      // the group's three rollouts share the 200-token first prompt, counted once in the tree
      assert.equal(c.groupMergedTokens - c.groupTreeTokens, 2 * 200);
    }
    assert.ok(thirty!.perCallRatio > ten!.perCallRatio, 'per-turn cost grows with the number of turns');
  });

  it('reports figures in the bench shape', () => {
    const figures = prefixMergingFigures({ turns: [10], groupSize: 2, promptTokens: 50 });
    assert.equal(figures.length, 2);
    assert.equal(figures[0]?.ratio, 1);
    assert.match(figures[0]?.note ?? '', /per-turn samples/);
  });
});
