// Reward-hack and safety detectors over whole trajectories: rule-based (shell-parsed, work-dir
// aware) per category, an LLM monitor over any model client, a review queue where they disagree,
// and scoring against a labelled set.
export type { Detector, DetectOptions, Finding } from './detector.ts';
export { ruleDetector } from './detector.ts';
export { RULE_DETECTORS } from './rules/index.ts';
export { contextFor, contextOfTask, type DetectionContext } from './context.ts';
export { trajectoryOf, parseExportLine, stepsOf, type Trajectory, type Turn, type ToolStep, type ExportedRollout } from './trajectory.ts';
export { analyseShell, resolvePath, type ShellCommand, type ShellScript, type ShellWord } from './shell.ts';
export { createMonitorDetector, isMonitor, renderTranscript, TRANSCRIPT_IS_DATA, MonitorVerdict, type MonitorDetector, type MonitorJudgement, type MonitorOptions } from './monitor.ts';
export { detectTrajectory, type DetectTrajectoryOptions } from './run.ts';
export { evaluate, loadLabels, renderEvaluation, LabelFile, type CategoryScore, type Evaluation } from './evaluate.ts';
export { benchDetectors, syntheticSession, type DetectorBenchOptions, type DetectorBenchResult } from './bench.ts';
