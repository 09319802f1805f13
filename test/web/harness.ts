// One viewer for a test file: a store in a temporary folder (reports/ and tasks/ beside it), the
// web app built, the real `gauntlet serve` API server on 127.0.0.1 and a headless Chromium.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/core/index.ts';
import { startApiServer, type ApiServer } from '../../src/server/api/index.ts';
import { openStore } from '../../src/store/index.ts';
import { openBrowser, type BrowserSession } from './browser.ts';
import { buildWeb } from './build.ts';

export interface Viewer<T> {
  dir: string;
  store: Store;
  server: ApiServer;
  browser: BrowserSession;
  /** What `fill` returned: ids of the runs and rollouts it wrote. */
  data: T;
  close: () => Promise<void>;
}

export async function startViewer<T>(options: { fill: (store: Store) => T | Promise<T>; token?: string; webRoot?: string }): Promise<Viewer<T>> {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-viewer-'));
  const store = openStore(join(dir, 'store.sqlite'));
  const data = await options.fill(store);
  const webRoot = options.webRoot ?? (await buildWeb({ outDir: join(dir, 'web') }));
  const server = await startApiServer({ store, port: 0, webRoot, ...(options.token ? { token: options.token } : {}) });
  const browser = await openBrowser();
  return {
    dir,
    store,
    server,
    browser,
    data,
    close: async () => {
      try {
        await browser.close();
      } finally {
        await server.close();
        store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
