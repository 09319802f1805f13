// Opens the store at the path the parent sends, once per message, so several processes (all
// loaded first) open one file at the same moment; answers "opened" or the error's message.
import { openStore } from '../../src/store/index.ts';

process.on('message', (path) => {
  if (path === 'exit') return process.disconnect();
  try {
    openStore(String(path)).close();
    process.send!({ opened: true });
  } catch (error) {
    process.send!({ opened: false, error: error instanceof Error ? error.message : String(error) });
  }
});
process.send!('ready');
