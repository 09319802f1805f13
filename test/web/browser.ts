// Real headless Chromium (Debian's package) driven by playwright-core, with a fresh profile per
// session and the flags that keep it from reaching the network on its own.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.GAUNTLET_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  context: BrowserContext;
  /** Uncaught errors thrown in any page so far. */
  pageErrors: string[];
  newPage: () => Promise<Page>;
  close: () => Promise<void>;
}

export async function openBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium) or set GAUNTLET_CHROMIUM to its path`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'gauntlet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1400, height: 900 },
    timeout: 60_000,
  });
  const errors: string[] = [];
  return {
    context,
    pageErrors: errors,
    newPage: async () => {
      const page = await context.newPage();
      // An uncaught error in the app fails the test that caused it rather than passing unseen.
      page.on('pageerror', (error) => errors.push(error.message));
      return page;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
    },
  };
}
