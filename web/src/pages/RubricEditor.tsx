// Builds a queue's typed rubric: each field categorical, numeric, boolean or free text.
import type { RubricField } from '../api/schemas.ts';

/** What the server accepts as a field name. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export type FieldDraft = { name: string; type: RubricField['type']; options: string; min: string; max: string; required: boolean };

export const newField = (): FieldDraft => ({ name: '', type: 'categorical', options: '', min: '', max: '', required: false });

/** The rubric fields, or the first problem (naming the field) that keeps them from being one. */
export function rubricFromDrafts(drafts: readonly FieldDraft[]): { ok: true; fields: RubricField[] } | { ok: false; message: string } {
  const fields: RubricField[] = [];
  const names = new Set<string>();
  for (const [i, d] of drafts.entries()) {
    const name = d.name.trim();
    const where = `rubric field ${i + 1}`;
    if (!name) return { ok: false, message: `${where}: a name is required` };
    if (!FIELD_NAME.test(name)) return { ok: false, message: `${where}: “${name}” must start with a letter and hold only letters, digits and _` };
    if (names.has(name)) return { ok: false, message: `${where}: the name “${name}” is used twice` };
    names.add(name);
    const required = d.required;
    if (d.type === 'categorical') {
      const options = d.options.split(',').map((o) => o.trim()).filter(Boolean);
      if (options.length < 2) return { ok: false, message: `${where} (“${name}”): list at least two options, separated by commas` };
      fields.push({ name, type: 'categorical', options, required });
    } else if (d.type === 'numeric') {
      const [min, max] = [Number(d.min), Number(d.max)];
      if (d.min.trim() === '' || d.max.trim() === '' || !Number.isFinite(min) || !Number.isFinite(max)) return { ok: false, message: `${where} (“${name}”): give a numeric minimum and maximum` };
      if (min >= max) return { ok: false, message: `${where} (“${name}”): the minimum must be below the maximum` };
      fields.push({ name, type: 'numeric', required, min, max });
    } else {
      fields.push({ name, type: d.type, required });
    }
  }
  return { ok: true, fields };
}

export function RubricEditor({ drafts, onChange }: { drafts: readonly FieldDraft[]; onChange: (drafts: FieldDraft[]) => void }) {
  const set = (i: number, change: Partial<FieldDraft>) => onChange(drafts.map((d, j) => (j === i ? { ...d, ...change } : d)));
  return (
    <fieldset className="rubric-editor">
      <legend>Rubric (optional)</legend>
      {drafts.map((d, i) => (
        <div key={i} className="rubric-row">
          <input aria-label={`Field ${i + 1} name`} placeholder="name" value={d.name} onChange={(e) => set(i, { name: e.target.value })} />
          <select aria-label={`Field ${i + 1} type`} value={d.type} onChange={(e) => set(i, { type: e.target.value as FieldDraft['type'] })}>
            <option value="categorical">categorical</option>
            <option value="numeric">numeric</option>
            <option value="boolean">yes / no</option>
            <option value="text">text</option>
          </select>
          {d.type === 'categorical' && (
            <input aria-label={`Field ${i + 1} options`} placeholder="options, comma-separated" value={d.options} onChange={(e) => set(i, { options: e.target.value })} />
          )}
          {d.type === 'numeric' && (
            <>
              <input aria-label={`Field ${i + 1} minimum`} placeholder="min" type="number" value={d.min} onChange={(e) => set(i, { min: e.target.value })} />
              <input aria-label={`Field ${i + 1} maximum`} placeholder="max" type="number" value={d.max} onChange={(e) => set(i, { max: e.target.value })} />
            </>
          )}
          <label>
            <input type="checkbox" checked={d.required} onChange={(e) => set(i, { required: e.target.checked })} /> required
          </label>
          <button type="button" aria-label={`Remove field ${i + 1}`} onClick={() => onChange(drafts.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...drafts, newField()])}>
        Add field
      </button>
    </fieldset>
  );
}
