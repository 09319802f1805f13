// How a path accumulates a sum of products. The demo's engine and trainer run the same model on the
// same bf16 numbers; they differ only here, in the order and precision of their sums, the way an
// inference engine's split-K GEMM kernels differ from a training framework's.
//
// Inputs are bf16 values (or fp32 values times 1), so every product is exact in float32 and only
// the running sums need rounding, which Math.fround does after each addition.
import { roundBf16 } from './bf16.ts';

/** One way of accumulating sums of products. Results are float32 values, not yet rounded to the output's dtype. */
export interface Accumulation {
  /** Σ a[aOffset + i] · b[bOffset + i] for i < length. */
  dot(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, length: number): number;
  /**
   * out[r] = Σ_k w[r · cols + k] · x[k] for every row r, each row summed exactly as `dot` would.
   * Rows are interleaved four at a time only so the dependent float32 additions overlap.
   */
  gemv(options: { w: Float32Array; rows: number; cols: number; x: Float32Array; out: Float32Array }): void;
}

const fround = Math.fround;

/** One float32 accumulator, front to back: a training framework's GEMM seen from one output element. */
export const sequentialFp32: Accumulation = {
  dot(a, aOffset, b, bOffset, length) {
    let acc = 0;
    for (let i = 0; i < length; i++) acc = fround(acc + a[aOffset + i]! * b[bOffset + i]!);
    return acc;
  },
  gemv({ w, rows, cols, x, out }) {
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const o0 = r * cols;
      const o1 = o0 + cols;
      const o2 = o1 + cols;
      const o3 = o2 + cols;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < cols; k++) {
        const xk = x[k]!;
        a0 = fround(a0 + w[o0 + k]! * xk);
        a1 = fround(a1 + w[o1 + k]! * xk);
        a2 = fround(a2 + w[o2 + k]! * xk);
        a3 = fround(a3 + w[o3 + k]! * xk);
      }
      out[r] = a0;
      out[r + 1] = a1;
      out[r + 2] = a2;
      out[r + 3] = a3;
    }
    for (; r < rows; r++) out[r] = sequentialFp32.dot(w, r * cols, x, 0, cols);
  },
};

export interface SplitKOptions {
  /** Elements per partial sum. */
  chunk: number;
  /** Precision the partial sums are stored in before they are added up. */
  partials: 'bf16' | 'fp32';
}

/**
 * Split-K: the reduction is cut into chunks, each summed in float32 and stored (in bf16 or fp32),
 * then the partial sums are added last chunk first, as a split-K kernel's reduction may order them.
 */
export function splitK(options: SplitKOptions): Accumulation {
  const { chunk } = options;
  const store = options.partials === 'bf16' ? roundBf16 : fround;
  const lastStart = (length: number) => Math.floor((length - 1) / chunk) * chunk;
  const accumulation: Accumulation = {
    dot(a, aOffset, b, bOffset, length) {
      let total = 0;
      for (let start = lastStart(length); start >= 0; start -= chunk) {
        const end = Math.min(length, start + chunk);
        let part = 0;
        for (let i = start; i < end; i++) part = fround(part + a[aOffset + i]! * b[bOffset + i]!);
        total = fround(total + store(part));
      }
      return total;
    },
    gemv({ w, rows, cols, x, out }) {
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        const o0 = r * cols;
        const o1 = o0 + cols;
        const o2 = o1 + cols;
        const o3 = o2 + cols;
        let t0 = 0;
        let t1 = 0;
        let t2 = 0;
        let t3 = 0;
        for (let start = lastStart(cols); start >= 0; start -= chunk) {
          const end = Math.min(cols, start + chunk);
          let p0 = 0;
          let p1 = 0;
          let p2 = 0;
          let p3 = 0;
          for (let k = start; k < end; k++) {
            const xk = x[k]!;
            p0 = fround(p0 + w[o0 + k]! * xk);
            p1 = fround(p1 + w[o1 + k]! * xk);
            p2 = fround(p2 + w[o2 + k]! * xk);
            p3 = fround(p3 + w[o3 + k]! * xk);
          }
          t0 = fround(t0 + store(p0));
          t1 = fround(t1 + store(p1));
          t2 = fround(t2 + store(p2));
          t3 = fround(t3 + store(p3));
        }
        out[r] = t0;
        out[r + 1] = t1;
        out[r + 2] = t2;
        out[r + 3] = t3;
      }
      for (; r < rows; r++) out[r] = accumulation.dot(w, r * cols, x, 0, cols);
    },
  };
  return accumulation;
}

/** The accumulations one forward pass uses. */
export interface Arithmetic {
  name: 'engine' | 'trainer';
  /** The decoder body's matrix multiplications (attention projections, MLP). */
  gemm: Accumulation;
  /** Reductions kept in float32 by both kinds of kernel: RMSNorm's sum of squares, attention scores, softmax sums, attention-weighted values. */
  reduce: Accumulation;
  /** The LM head's matrix multiplication. */
  head: Accumulation;
}

export type HeadPrecision = 'bf16' | 'fp32';

/** An inference engine: split-K GEMMs with bf16 partial sums (fp32 ones in an fp32 head); other reductions chunked in fp32. */
export function engineArithmetic(options: { head: HeadPrecision; chunk: number }): Arithmetic {
  const { chunk } = options;
  return {
    name: 'engine',
    gemm: splitK({ chunk, partials: 'bf16' }),
    reduce: splitK({ chunk, partials: 'fp32' }),
    head: splitK({ chunk, partials: options.head }),
  };
}

/** A trainer: every sum accumulated front to back in one float32 register. */
export function trainerArithmetic(): Arithmetic {
  return { name: 'trainer', gemm: sequentialFp32, reduce: sequentialFp32, head: sequentialFp32 };
}
