// Label exports for reward-model training, previewed before download. The download goes through
// the API client (so a bearer token is sent), then hands the browser a local blob.
import { useState } from 'react';
import type { ExportFormat, ZeroSteps } from '../api/client.ts';
import { useApi, useResource } from '../api/hooks.ts';
import { Loaded } from '../components/States.tsx';

const FORMATS: readonly { value: ExportFormat; label: string }[] = [
  { value: 'dpo', label: 'DPO / reward model: {prompt, chosen, rejected} from preferences' },
  { value: 'kto', label: 'KTO: {prompt, completion, label} from verdicts' },
  { value: 'prm', label: 'Process reward: {prompt, completions[], labels[]} from step ratings' },
];
const PREVIEW_LINES = 20;

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
    URL.revokeObjectURL(url);
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
          return (
            <>
              <p>
                {lines.length.toLocaleString()} records.{' '}
                <button type="button" onClick={() => download(text)} disabled={lines.length === 0}>
                  Download JSONL
                </button>
              </p>
              <pre className="export-preview" data-testid="export-preview" aria-label="Export preview">
                {lines.slice(0, PREVIEW_LINES).join('\n')}
                {lines.length > PREVIEW_LINES ? `\n… ${lines.length - PREVIEW_LINES} more` : ''}
              </pre>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
