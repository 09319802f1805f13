// Expert review: labels with history, queues with reservations, agreement statistics, detector
// precision against experts, label exports for reward-model training, and training-time monitoring.
export { alphaWithInterval, cohensKappa, krippendorffAlpha, type AlphaEstimate, type AlphaLevel, type KappaResult } from './agreement.ts';
export { exportLabels, ExportFormat, toJsonl, ZeroSteps, type DpoRow, type ExportLabelsOptions, type KtoRow, type LabelAgreement, type LabelExport, type PrmRow } from './exports.ts';
export {
  currentLabels,
  PreferenceInput,
  readLabels,
  recordPreference,
  recordStepLabel,
  recordVerdict,
  ReviewConflictError,
  StepInput,
  VerdictInput,
  withHistory,
  type LabelContext,
  type LabelView,
} from './labels.ts';
export {
  PreferenceLabel,
  ReviewItem,
  ReviewLabel,
  ReviewQueue,
  Rubric,
  RubricField,
  STRATEGIES,
  StepLabel,
  Strategy,
  VerdictLabel,
  VERDICTS,
} from './model.ts';
export { monitoringSeries, type MonitoringFilter, type MonitoringPoint } from './monitoring.ts';
export { findQueueItem, itemView, readQueue, readQueues, type ItemView } from './queue-read.ts';
export {
  createQueue,
  DEFAULT_RESERVATION_MINUTES,
  MIN_RESERVATION_MINUTES,
  NextInput,
  nextItem,
  progressOf,
  QueueInput,
  queueItems,
  ReleaseInput,
  releaseItem,
  type QueueContext,
  type QueueProgress,
  type QueueSettings,
} from './queue-store.ts';
export { sampleRollouts, type Sample } from './sampling.ts';
export { reviewStats, type AgreementBlock, type DetectorScore, type PairKappa, type ReviewStats } from './stats.ts';
export { ReviewStatsBusy, ReviewStatsService, type ReviewStatsServiceOptions } from './stats-service.ts';
export * from './summary.ts';
export { stepsOf, transcriptOf, type StepView, type Transcript } from './trajectory.ts';
