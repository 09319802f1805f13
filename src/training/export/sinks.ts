import { once } from 'node:events';
import { createWriteStream, openSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { errorMessage, InputError } from '../../core/index.ts';
import { ParquetRowWriter, type ParquetColumns } from './parquet.ts';

/**
 * Where export rows go. Files are written beside their destination and renamed into place on
 * `close`, so an export that fails half-way never leaves a file that looks complete.
 */
export interface RowSink {
  /** `label` names the row in errors (a sample id). */
  write(row: object, label?: string): Promise<void>;
  close(): Promise<void>;
  /** Removes whatever was written (the export failed). */
  abort(): void;
}

export interface SinkOptions {
  format: 'jsonl' | 'parquet';
  /** A file path; null writes JSONL to `stdout`. */
  output: string | null;
  columns: ParquetColumns;
  metadata: Record<string, string>;
  stdout: (text: string) => void;
}

export async function openSink(options: SinkOptions): Promise<RowSink> {
  if (options.format === 'parquet') {
    if (!options.output) throw new InputError('--output', 'Parquet is written to a file', 'a file path with --format parquet');
    return parquetSink(options.output, options.columns, options.metadata);
  }
  return options.output ? jsonlFileSink(options.output) : { write: async (row) => options.stdout(jsonLine(row)), close: async () => {}, abort: () => {} };
}

// JSON leaves U+0085, U+2028 and U+2029 unescaped inside strings, and Python's str.splitlines()
// (a common way to read JSONL) ends a line at each: a prompt holding one would split its row in two.
const LINE_BREAKS = /[\u0085\u2028\u2029]/g;

/** JSON text with every character some reader takes for a line end escaped: the same JSON value, on one line by any reader's count. */
export function oneLineJson(json: string): string {
  // These characters can only stand inside JSON strings, where the escape means the same character.
  return json.replace(LINE_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One JSONL line. */
export function jsonLine(value: unknown): string {
  return `${oneLineJson(JSON.stringify(value))}\n`;
}

/**
 * Where a file export is written before it is renamed over its destination: a name of its own per
 * export, so two exports to the same path at once never write into one file.
 */
export function partialPath(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
}

async function parquetSink(path: string, columns: ParquetColumns, metadata: Record<string, string>): Promise<RowSink> {
  const partial = partialPath(path);
  let writer: ParquetRowWriter;
  try {
    writer = await ParquetRowWriter.open({ path: partial, columns, metadata });
  } catch (error) {
    throw new InputError('--output', `cannot write ${path} (${errorMessage(error)})`, 'a path in an existing, writable directory');
  }
  return {
    write: async (row, label) => writer.write(row as Record<string, unknown>, label),
    close: async () => {
      writer.close();
      renameSync(partial, path);
    },
    abort: () => rmSync(partial, { force: true }),
  };
}

function jsonlFileSink(path: string): RowSink {
  const partial = partialPath(path);
  let fd: number;
  try {
    // Opened now, not by the stream in the background: an export aborted at once (nothing to export)
    // would remove the file before it existed, and the stream would then leave it behind.
    fd = openSync(partial, 'w');
  } catch (error) {
    throw new InputError('--output', `cannot write ${path} (${errorMessage(error)})`, 'a path in an existing, writable directory');
  }
  const out: WriteStream = createWriteStream(partial, { fd });
  let failure: Error | null = null;
  out.on('error', (error) => (failure = error));
  const check = () => {
    if (failure) throw new InputError('--output', `cannot write ${path} (${failure.message})`, 'a path in an existing, writable directory');
  };
  return {
    write: async (row) => {
      check();
      // `once` rejects if the stream fails while we wait.
      if (!out.write(jsonLine(row))) await once(out, 'drain');
    },
    close: async () => {
      check();
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      renameSync(partial, path);
    },
    abort: () => {
      out.destroy();
      rmSync(partial, { force: true });
    },
  };
}
