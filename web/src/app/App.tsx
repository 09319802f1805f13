import { useCallback, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Api } from '../api/client.ts';
import { ApiContext, useApi, useResource } from '../api/hooks.ts';
import type { StoreAccess } from '../api/schemas.ts';
import { AuthorPage } from '../pages/AuthorPage.tsx';
import { ComparePage } from '../pages/ComparePage.tsx';
import { ExportsPage } from '../pages/ExportsPage.tsx';
import { MonitoringPage } from '../pages/MonitoringPage.tsx';
import { QueueReviewPage } from '../pages/QueueReviewPage.tsx';
import { QueuesPage } from '../pages/QueuesPage.tsx';
import { ReportPage, ReportsPage } from '../pages/ReportsPage.tsx';
import { RunPage } from '../pages/RunPage.tsx';
import { RunsPage } from '../pages/RunsPage.tsx';
import { StatsPage } from '../pages/StatsPage.tsx';
import { TrajectoryPage } from '../pages/TrajectoryPage.tsx';
import { HelpOverlay } from '../components/HelpOverlay.tsx';
import { Visible } from '../components/Hidden.tsx';
import { HotkeyRegistryContext, useHotkeys, type HotkeyHelp, type HotkeyRegistry } from './hotkeys.ts';
import { href, useLocation, type Location } from './router.ts';
import { ReviewerContext, readToken, storeToken, useReviewerState } from './session.ts';
import { StoreAccessContext, useStoreAccess } from './store-access.ts';

const NAV: readonly { label: string; to: string; pages: readonly string[] }[] = [
  { label: 'Runs', to: href(['runs']), pages: ['runs', 'run', 'rollout', 'compare'] },
  { label: 'Review queues', to: href(['queues']), pages: ['queues', 'queue'] },
  { label: 'Agreement', to: href(['stats']), pages: ['stats'] },
  { label: 'Training monitor', to: href(['monitoring']), pages: ['monitoring'] },
  { label: 'Reports', to: href(['reports']), pages: ['reports', 'report'] },
  { label: 'Exports', to: href(['exports']), pages: ['exports'] },
  { label: 'New task', to: href(['author']), pages: ['author'] },
];

function Page({ location }: { location: Location }) {
  const { route, query } = location;
  switch (route.page) {
    case 'runs':
      return <RunsPage query={query} />;
    case 'run':
      // Keyed: another run starts with its own selection and time of reading.
      return <RunPage key={route.runId} runId={route.runId} query={query} />;
    case 'rollout':
      return <TrajectoryPage rolloutId={route.rolloutId} query={query} />;
    case 'compare':
      return <ComparePage rolloutId={route.rolloutId} otherId={route.otherId} />;
    case 'queues':
      return <QueuesPage query={query} />;
    case 'queue':
      return <QueueReviewPage queueId={route.queueId} />;
    case 'stats':
      return <StatsPage query={query} />;
    case 'monitoring':
      return <MonitoringPage query={query} />;
    case 'reports':
      return <ReportsPage />;
    case 'report':
      return <ReportPage name={route.name} />;
    case 'author':
      return <AuthorPage query={query} />;
    case 'exports':
      return <ExportsPage />;
    case 'not-found':
      return (
        <p className="error-box" role="alert">
          No page at “<Visible text={route.path} />”. <a href={href(['runs'])}>Go to runs</a>.
        </p>
      );
  }
}

export function App() {
  const location = useLocation();
  const reviewer = useReviewerState();
  const [needsToken, setNeedsToken] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const [hotkeys, setHotkeys] = useState<HotkeyHelp[][]>([]);

  const api = useMemo(
    () =>
      new Api({
        token: readToken,
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (response.status === 401) setNeedsToken(true);
          return response;
        },
      }),
    [],
  );
  const registry = useMemo<HotkeyRegistry>(
    () => ({
      register: (entries) => {
        setHotkeys((old) => [...old, entries]);
        return () => setHotkeys((old) => old.filter((e) => e !== entries));
      },
    }),
    [],
  );

  return (
    <ApiContext.Provider value={api}>
      <StoreAccessProvider>
        <ReviewerContext.Provider value={reviewer}>
          <HotkeyRegistryContext.Provider value={registry}>
            <GlobalKeys onHelp={() => setHelpOpen((v) => !v)} />
            <header className="top">
              <a className="brand" href={href(['runs'])}>
                Gauntlet
              </a>
              <nav aria-label="Main">
                {NAV.map((item) => (
                  <a key={item.label} href={item.to} aria-current={item.pages.includes(location.route.page) ? 'page' : undefined}>
                    {item.label}
                  </a>
                ))}
              </nav>
              <ReviewerInput name={reviewer.name} onChange={reviewer.setName} />
              <button type="button" className="help-button" onClick={() => setHelpOpen(true)} aria-label="Keyboard shortcuts">
                ?
              </button>
            </header>
            <ReadOnlyNotice />
            {needsToken && <TokenForm onDone={() => window.location.reload()} />}
            <main>
              <Page location={location} />
            </main>
            {helpOpen && <HelpOverlay entries={hotkeys.flat()} onClose={() => setHelpOpen(false)} />}
          </HotkeyRegistryContext.Provider>
        </ReviewerContext.Provider>
      </StoreAccessProvider>
    </ApiContext.Provider>
  );
}

const WRITABLE: StoreAccess = { readOnly: false, reason: null };

/** Asks the server once whether its store takes labels; pages read the answer from context. */
function StoreAccessProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const access = useResource('store-access', (signal) => api.storeAccess(signal));
  return <StoreAccessContext.Provider value={access.data ?? WRITABLE}>{children}</StoreAccessContext.Provider>;
}

/** On every page while the store is read-only, so nobody starts reviewing work that cannot be saved. */
function ReadOnlyNotice() {
  const { readOnly, reason } = useStoreAccess();
  if (!readOnly) return null;
  return (
    <p className="read-only-notice" role="note" data-testid="read-only-notice">
      <strong>Read-only store</strong>
      {reason ? ` (${reason})` : ''}: runs, trajectories, labels and queues can be read; verdicts, step ratings, preferences, review queues and new tasks
      cannot be saved.
    </p>
  );
}

function GlobalKeys({ onHelp }: { onHelp: () => void }) {
  useHotkeys([{ keys: ['?'], description: 'Keyboard shortcuts', run: onHelp }]);
  return null;
}

function ReviewerInput({ name, onChange }: { name: string; onChange: (name: string) => void }) {
  const [value, setValue] = useState(name);
  const commit = useCallback(() => value.trim() !== name && onChange(value), [value, name, onChange]);
  return (
    <label className="reviewer" htmlFor="reviewer-name">
      <span>Reviewer</span>
      <input
        id="reviewer-name"
        value={value}
        placeholder="your name"
        autoComplete="nickname"
        onChange={(e) => setValue(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            commit();
            e.currentTarget.blur();
          }
        }}
      />
    </label>
  );
}

function TokenForm({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!token.trim()) return;
    storeToken(token.trim());
    onDone();
  };
  return (
    <form className="token-form error-box" onSubmit={submit} aria-label="Access token">
      <label>
        This server needs its access token (the one `gauntlet serve --token` was started with):{' '}
        <input type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" />
      </label>
      <button type="submit">Use token</button>
    </form>
  );
}
