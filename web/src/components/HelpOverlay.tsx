import { useEffect, useRef } from 'react';
import type { HotkeyHelp } from '../app/hotkeys.ts';

const keyName = (key: string) => (key === ' ' ? 'Space' : key);

export function HelpOverlay({ entries, onClose }: { entries: readonly HotkeyHelp[]; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => closeRef.current?.focus(), []);
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div className="overlay-box">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <table className="help-table">
          <tbody>
            {entries.map((entry) => (
              <tr key={`${entry.keys.join(',')}:${entry.description}`}>
                <td>
                  {entry.keys.map((k) => (
                    <kbd key={k}>{keyName(k)}</kbd>
                  ))}
                </td>
                <td>{entry.description}</td>
              </tr>
            ))}
            <tr>
              <td>
                <kbd>?</kbd>
              </td>
              <td>Show or hide this help</td>
            </tr>
          </tbody>
        </table>
        <button ref={closeRef} type="button" onClick={onClose}>
          Close (Esc)
        </button>
      </div>
    </div>
  );
}
