/** Where a command writes: stdout carries results (one JSON document with --json), stderr everything else. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars only then). */
  interactive: boolean;
  env: Record<string, string | undefined>;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
  env: process.env,
};

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Text from models, tools and stores made safe for a terminal: escape sequences (colours, cursor
 * moves, title changes, hyperlinks) and other control characters are shown as visible escapes
 * instead of acting on the terminal. Newlines and tabs stay.
 */
export function safeText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
