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

/** How long a cause may grow in a one-line listing; `gauntlet show RUN --rollout ID` gives it whole. */
export const CAUSE_LINE_MAX = 400;

/**
 * A multi-line cause (an error whose reasons follow on later lines) on one line: its lines joined
 * with "; " (a space after a line ending in ":"), made safe for a terminal, and capped at `max`
 * characters so one rollout stays one line. The reasons are the informative part: never dropped
 * unless the cap cuts them.
 */
export function causeLine(text: string, max = CAUSE_LINE_MAX): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const joined = lines.reduce((out, line) => (out === '' ? line : `${out}${out.endsWith(':') ? ' ' : '; '}${line}`), '');
  const safe = safeText(joined);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

/** A multi-line text shown whole under a heading line: continuation lines indented by `indent`. */
export function indentedLines(text: string, indent: string): string {
  return safeText(text.trimEnd()).split('\n').join(`\n${indent}`);
}
