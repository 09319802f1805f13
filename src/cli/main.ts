// Entry point of the `gauntlet` command; commands are registered in program.ts.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('gauntlet: the command line is not built yet\n');
  return 1;
}
