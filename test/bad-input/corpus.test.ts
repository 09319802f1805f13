// Runs the bad-input corpus (test/bad-input/corpus/*.yaml): every malformed config, task file,
// CLI argument, HTTP body, model response, tool argument and corrupted store row gets a clear
// error naming where and what, with no crash and nothing lost. Known gaps are `todo` entries,
// listed with the reason, not run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiApp } from '../../src/server/api/index.ts';
import { startOpenEnvServer, type OpenEnvServer } from '../../src/server/openenv/index.ts';
import { openStore } from '../../src/store/index.ts';
import { loadCorpus } from './corpus.ts';
import { cliCase, fileCase, httpCase, modelCase, storeCase, toolCase, type HttpTargets } from './drivers.ts';

const corpus = loadCorpus();

describe('the bad-input corpus', () => {
  it('holds at least 150 inputs that run', () => {
    const runnable = corpus.flatMap(({ corpus: c }) => (c.cases as { todo?: string }[]).filter((x) => x.todo === undefined));
    assert.ok(runnable.length >= 150, `${runnable.length} runnable cases`);
  });
});

let openenv: OpenEnvServer;
const apiStore = openStore(':memory:');
const targets: HttpTargets = {
  openenv: '',
  api: (() => {
    const app = createApiApp({ store: apiStore, token: undefined, webRoot: '/nonexistent', reportsDir: '/nonexistent', tasksDir: '/nonexistent', sandbox: 'virtual', now: () => new Date() });
    return async (url, init) => app.request(url, init);
  })(),
};

before(async () => {
  openenv = await startOpenEnvServer({ env: 'mail', port: 0 });
  targets.openenv = openenv.url;
});
after(async () => {
  await openenv?.close();
  apiStore.close();
});

for (const { file, corpus: c } of corpus) {
  describe(`${file} (${c.kind})`, () => {
    for (const [index, entry] of c.cases.entries()) {
      const title = `${index + 1}. ${entry.name}`;
      if (entry.todo !== undefined) {
        it.todo(`${title}: ${entry.todo}`);
        continue;
      }
      it(title, async () => {
        switch (c.kind) {
          case 'cli':
            return cliCase(c.cases[index]!);
          case 'config':
          case 'task-file':
            return fileCase(c.cases[index]!, c.kind);
          case 'model-response':
            return modelCase(c.cases[index]!);
          case 'http':
            return httpCase(c.cases[index]!, targets);
          case 'tool-arguments':
            return toolCase(c.cases[index]!, c.env);
          case 'store-row':
            return storeCase(c.cases[index]!);
        }
      });
    }
  });
}
