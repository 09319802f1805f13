import { commonPrefixLength } from './drift.ts';

/** One sequence's place in the tree: its first `shared` tokens equal those of sequence `parent`. */
export interface PrefixLink {
  parent: number | null;
  shared: number;
}

/**
 * A group's sequences as a prefix tree, flattened: each sequence points at the sequence it shares
 * the longest prefix with among those before it in sorted order, so a trainer that supports shared
 * prefixes computes each shared prefix once. `uniqueTokens` is the size of the token trie (the
 * tokens that must be computed); `totalTokens` what training every sequence whole costs.
 */
export interface PrefixTree {
  links: PrefixLink[];
  totalTokens: number;
  uniqueTokens: number;
}

function compareIds(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/**
 * In lexicographic order a sequence's longest common prefix with any earlier sequence is the one
 * with its predecessor, so linking each to its predecessor builds the trie: its node count is the
 * total length minus the sum of those prefixes, whatever order the sequences were inserted in.
 */
export function buildPrefixTree(sequences: readonly (readonly number[])[]): PrefixTree {
  const order = sequences.map((_, i) => i).sort((a, b) => compareIds(sequences[a] as number[], sequences[b] as number[]) || a - b);
  const links: PrefixLink[] = sequences.map(() => ({ parent: null, shared: 0 }));
  let totalTokens = 0;
  let uniqueTokens = 0;
  for (let k = 0; k < order.length; k++) {
    const index = order[k] as number;
    const sequence = sequences[index] as number[];
    totalTokens += sequence.length;
    const previous = k > 0 ? (order[k - 1] as number) : null;
    const shared = previous === null ? 0 : commonPrefixLength(sequences[previous] as number[], sequence);
    if (previous !== null && shared > 0) links[index] = { parent: previous, shared };
    uniqueTokens += sequence.length - shared;
  }
  return { links, totalTokens, uniqueTokens };
}

/** Token counts for one set of rollouts: every call trained alone, merged segments, and the tree over those segments. */
export interface TokenSavings {
  perCallTokens: number;
  mergedTokens: number;
  treeTokens: number;
}

export function addSavings(a: TokenSavings, b: TokenSavings): TokenSavings {
  return { perCallTokens: a.perCallTokens + b.perCallTokens, mergedTokens: a.mergedTokens + b.mergedTokens, treeTokens: a.treeTokens + b.treeTokens };
}

export const NO_SAVINGS: TokenSavings = { perCallTokens: 0, mergedTokens: 0, treeTokens: 0 };
