// What both backends share: the Sandbox contract's file access goes through WorkdirFiles, and every
// call after close() is refused the same way.
import type { ExecOptions, ExecResult, FileEntry, ReadFileOptions, Sandbox } from '../core/index.ts';
import type { WorkdirFiles } from './files.ts';

export abstract class WorkdirSandbox implements Sandbox {
  readonly specificationVersion = 'v1' as const;
  abstract readonly backend: Sandbox['backend'];
  protected closed = false;

  constructor(
    readonly workdir: string,
    private readonly files: WorkdirFiles,
  ) {}

  abstract exec(command: string, options: ExecOptions): Promise<ExecResult>;
  abstract close(): Promise<void>;

  readFile(path: string, options?: ReadFileOptions): Promise<string | null> {
    this.assertOpen('readFile');
    return this.files.read(path, options);
  }

  writeFile(path: string, content: string): Promise<void> {
    this.assertOpen('writeFile');
    return this.files.write(path, content);
  }

  listFiles(): Promise<FileEntry[]> {
    this.assertOpen('listFiles');
    return this.files.list();
  }

  protected assertOpen(operation: string): void {
    if (this.closed) throw new Error(`sandbox ${operation}: the sandbox is closed`);
  }
}
