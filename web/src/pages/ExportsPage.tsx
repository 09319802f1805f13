// Label exports for reward-model training, previewed before download. The download goes through
// the API client (so a bearer token is sent), then hands the browser a local blob.
import { useState } from 'react';
import type { ExportFormat, ZeroSteps } from '../api/client.ts';
import { useApi, useResource } from '../api/hooks.ts';
import { revealHidden } from '../components/Hidden.tsx';
import { Loaded } from '../components/States.tsx';

const FORMATS: readonly { value: ExportFormat; label: string }[] = [
  { value: 'dpo', label: 'DPO / reward model: {prompt, chosen, rejected} from preferences' },
  { value: 'kto', label: 'KTO: {prompt, completion, label} from verdicts' },
  { value: 'prm', label: 'Process reward: {prompt, completions[], labels[]} from step ratings' },
];
const PREVIEW_LINES = 20;
/** Characters of the preview laid out: one record holds whole trajectories, which can run to megabytes. */
const PREVIEW_CHARS = 64 * 1024;

/** The first lines of the export, cut at PREVIEW_CHARS (never inside a surrogate pair). */
function previewOf(lines: readonly string[]): { text: string; cut: boolean } {
  const text = lines.slice(0, PREVIEW_LINES).join('\n');
  if (text.length <= PREVIEW_CHARS) return { text, cut: false };
  const end = /[\uD800-\uDBFF]/.test(text.charAt(PREVIEW_CHARS - 1)) ? PREVIEW_CHARS - 1 : PREVIEW_CHARS;
  return { text: text.slice(0, end), cut: true };
}

export function ExportsPage() {
  const api = useApi();
  const [format, setFormat] = useState<ExportFormat>('dpo');
  const [zeroSteps, setZeroSteps] = useState<ZeroSteps>('drop');
  const data = useResource(`export:${format}:${zeroSteps}`, (signal) => api.exportLabels({ format, zeroSteps }, signal));

  const download = (text: string) => {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `labels-${format}.jsonl`;
    a.click();
    // Revoked later, not at once: the download reads the blob after the click returns.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };

  return (
    <section aria-labelledby="exports-title">
      <h1 id="exports-title">Label exports</h1>
      <form className="filters" aria-label="Export settings" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Format</span>
          <select value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
            {FORMATS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Steps rated 0</span>
          <select value={zeroSteps} onChange={(e) => setZeroSteps(e.target.value as ZeroSteps)} disabled={format !== 'prm'}>
            <option value="drop">dropped</option>
            <option value="negative">counted as bad</option>
            <option value="neutral">kept as neutral</option>
          </select>
        </label>
      </form>
      <Loaded resource={data} what="the export">
        {(text) => {
          const lines = text.split('\n').filter((l) => l.trim() !== '');
          const preview = previewOf(lines);
          return (
            <>
              <p>
                {lines.length.toLocaleString()} records.{' '}
                <button type="button" onClick={() => download(text)} disabled={lines.length === 0}>
                  Download JSONL
                </button>
              </p>
              {/* Records hold model and tool text: hidden characters are marked here as on the trajectory page. */}
              <pre className="export-preview" data-testid="export-preview" aria-label="Export preview">
                {revealHidden(preview.text)}
                {!preview.cut && lines.length > PREVIEW_LINES ? `\n… ${lines.length - PREVIEW_LINES} more` : ''}
              </pre>
              {preview.cut && (
                <p className="muted" data-testid="export-preview-cut">
                  The preview stops after {PREVIEW_CHARS.toLocaleString()} of {text.length.toLocaleString()} characters; the download holds every record whole.
                </p>
              )}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
