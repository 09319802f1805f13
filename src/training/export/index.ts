// Trainer exports: a run's rollouts as verl, SkyRL, TRL, prime-rl, generic or SFT rows, in JSONL
// or Parquet, with group advantages, drift counts and the prefix-tree token savings.
export { exportRun, linkPrefixes, trajectoryProblem, type ExportRunOptions, type TrajectoryCheckOptions } from './export.ts';
export { renderSummary, type ExportSummary } from './summary.ts';
export { oneLineJson, partialPath } from './sinks.ts';
export { resolveTarget, TARGETS } from './targets/index.ts';
export { segmentSampleId, TargetName, type ExportTarget, type ExportUnit } from './unit.ts';
export { ParquetRowWriter, parquetSchema, pq, type ParquetColumns, type ParquetType } from './parquet.ts';
export { ChatMessage, ChatTool, chatMessage, chatTool } from './chat.ts';
export { GENERIC_SCHEMA_VERSION } from './targets/generic.ts';
export { contextEnds } from './targets/sft.ts';
