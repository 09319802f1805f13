import type Database from 'better-sqlite3';
import type { JsonValue } from '../../core/index.ts';
import { ToolError } from '../define.ts';
import { membersOf, parseJsonObject, parseStringArray, propertiesOf, type MemberRow, type PageRow, type PropertyRow } from './schema.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isValidDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/** A member by id, email or unique full name (case-insensitive). Errors say which people matched. */
export function resolvePerson(members: MemberRow[], raw: string, where: string): MemberRow {
  const needle = raw.trim().toLowerCase();
  const exact = members.filter((m) => m.id.toLowerCase() === needle || m.email.toLowerCase() === needle || m.name.toLowerCase() === needle);
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1) throw new ToolError(`${where}: "${raw}" matches several people (${exact.map((m) => `${m.name} <${m.email}>`).join(', ')}); give an email`);
  const partial = members.filter((m) => m.name.toLowerCase().includes(needle));
  const hint = partial.length > 0 ? `; did you mean ${partial.map((m) => `${m.name} <${m.email}>`).join(' or ')}?` : '; list_members shows everyone';
  throw new ToolError(`${where}: no workspace member "${raw}" (give a member id, email or full name)${hint}`);
}

function describeType(prop: PropertyRow): string {
  const options = parseStringArray(prop.options);
  switch (prop.type) {
    case 'text':
      return 'a string';
    case 'number':
      return 'a number such as 1200';
    case 'select':
      return `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'multi_select':
      return `an array of options from ${options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'date':
      return 'a date "YYYY-MM-DD"';
    case 'checkbox':
      return 'true or false';
    case 'person':
      return 'a member email, id or full name';
  }
}

function pickOption(prop: PropertyRow, raw: string): string {
  const options = parseStringArray(prop.options);
  const match = options.find((o) => o.toLowerCase() === raw.trim().toLowerCase());
  if (!match) throw new ToolError(`property "${prop.name}" (${prop.type}): "${raw}" is not an option; expected ${describeType(prop)}`);
  return match;
}

/** Checks one value against its property's type and returns the stored form (null clears it). */
export function normaliseValue(prop: PropertyRow, raw: unknown, members: MemberRow[]): JsonValue {
  if (raw === null) return null;
  const bad = (): never => {
    throw new ToolError(`property "${prop.name}" (${prop.type}): got ${JSON.stringify(raw)}; expected ${describeType(prop)} (or null to clear)`);
  };
  switch (prop.type) {
    case 'text':
      return typeof raw === 'string' ? raw : bad();
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : bad();
    case 'checkbox':
      return typeof raw === 'boolean' ? raw : bad();
    case 'date':
      return typeof raw === 'string' && isValidDate(raw) ? raw : bad();
    case 'select':
      return typeof raw === 'string' ? pickOption(prop, raw) : bad();
    case 'multi_select': {
      if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) return bad();
      return [...new Set((raw as string[]).map((v) => pickOption(prop, v)))];
    }
    case 'person':
      return typeof raw === 'string' ? resolvePerson(members, raw, `property "${prop.name}"`).email : bad();
  }
}

/**
 * Validates a partial update of a row's properties and merges it into the stored values.
 * Unknown property names are an error that lists the real ones.
 */
export function mergeRowProperties(db: Database.Database, database: PageRow, current: Record<string, JsonValue>, update: Record<string, unknown>): Record<string, JsonValue> {
  const props = propertiesOf(db, database.id);
  const members = membersOf(db);
  const byName = new Map(props.map((p) => [p.name.toLowerCase(), p]));
  const next: Record<string, JsonValue> = { ...current };
  for (const [name, raw] of Object.entries(update)) {
    const prop = byName.get(name.trim().toLowerCase());
    if (!prop) {
      const hint = name.trim().toLowerCase() === 'name' || name.trim().toLowerCase() === 'title' ? ' (the row title is set with the `title` argument)' : '';
      throw new ToolError(`database "${database.title}" has no property "${name}"${hint}; its properties are ${props.map((p) => `${p.name} (${p.type})`).join(', ')}`);
    }
    next[prop.name] = normaliseValue(prop, raw, members);
  }
  // Stored in schema order with every property present, so snapshots compare byte for byte.
  const ordered: Record<string, JsonValue> = {};
  for (const p of props) ordered[p.name] = next[p.name] ?? null;
  return ordered;
}

export function rowValues(page: PageRow): Record<string, JsonValue> {
  return parseJsonObject(page.properties) as Record<string, JsonValue>;
}
