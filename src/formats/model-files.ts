import { open } from 'node:fs/promises';
import { InputError, errorMessage } from '../core/index.ts';

// Reading the files of a downloaded model (chat_template.jinja, tokenizer_config.json,
// tokenizer.json) and the CLI's own inputs. Two things Node does quietly are refused here:
// bytes that are not UTF-8 (Node puts U+FFFD in their place; Python, and so transformers, refuses
// them, and a template or vocabulary altered that way would render or tokenize unlike the engine),
// and files with no end (a FIFO, /dev/zero) or of any size (readFile holds it all before anything
// can be checked). Every error names the file.

/**
 * The most read from one model file. The largest published tokenizer.json files are under 40 MB;
 * parsing one takes some 25 times its size in memory, so much more would exhaust the heap.
 */
export const MAX_MODEL_FILE_BYTES = 128 * 1024 * 1024;

const BOM = '\uFEFF';

/** `ignoreBOM` keeps a byte order mark in the text, as Python's `utf-8` codec does; callers decide. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes.toLocaleString('en')} bytes`;
}

export interface ReadOptions {
  /** How errors name the file (a flag and the path, say); the path by default. */
  where?: string;
  /** What the bound is for, in its message: `a chat template`; `one file` by default. */
  kind?: string;
}

/** Reads at most `maxBytes` of `path` (a larger file is an error, found without reading it all). */
export async function readBoundedFile(path: string, maxBytes: number, options: ReadOptions = {}): Promise<Buffer> {
  const { where = path, kind = 'one file' } = options;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new InputError(where, `cannot read the file (${errorMessage(error)})`);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new InputError(where, 'is a directory', 'a file');
    if (info.size > maxBytes) throw new InputError(where, `is ${sizeText(info.size)}, more than the ${sizeText(maxBytes)} read from ${kind}`);
    // The size a stat gives is 0 for pipes and devices, so the reads themselves are counted too.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new InputError(where, `holds more than the ${sizeText(maxBytes)} read from ${kind}`);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(where, `cannot read the file (${errorMessage(error)})`);
  } finally {
    await handle.close();
  }
}

/** UTF-8 bytes as text; anything else is an error naming the line and byte where it stops being UTF-8. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (_error) {
    const at = invalidUtf8Offset(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const shown = [...bytes.subarray(at, at + 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new InputError(where, `is not valid UTF-8 (line ${line}, byte ${at}: ${shown})`, 'UTF-8 text; a binary or otherwise encoded file?');
  }
}

/** A text file, strictly UTF-8, of at most `maxBytes`. A byte order mark stays in the text. */
export async function readTextFile(path: string, maxBytes: number, options: ReadOptions = {}): Promise<string> {
  return decodeUtf8(await readBoundedFile(path, maxBytes, options), options.where ?? path);
}

/** A JSON object from a model's file. A leading byte order mark is named: JSON has none, and transformers refuses such a file too. */
export async function readModelJson(path: string, maxBytes = MAX_MODEL_FILE_BYTES): Promise<Record<string, unknown>> {
  const text = await readTextFile(path, maxBytes);
  if (text.startsWith(BOM)) throw new InputError(path, 'starts with a UTF-8 byte order mark, which JSON does not allow (transformers cannot read it either)', 'the file saved as UTF-8 without a BOM');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `is not valid JSON (${errorMessage(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(path, 'is not a JSON object');
  return value as Record<string, unknown>;
}

/** Drops a leading byte order mark: for the CLI's own JSON and YAML inputs, where it is only an encoding marker. */
export function withoutBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** The offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let length: number;
    let min = 0x80;
    let max = 0xbf;
    if (b < 0x80) length = 1;
    else if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      // No overlong forms (E0 A0..) and no surrogates (ED 80..9F).
      if (b === 0xe0) min = 0xa0;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) min = 0x90;
      if (b === 0xf4) max = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? min : 0x80) || c > (k === 1 ? max : 0xbf)) return i;
    }
    i += length;
  }
  return bytes.length;
}
