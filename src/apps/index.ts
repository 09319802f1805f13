// The apps built on the fan-out runtime: the research radar and feedback triage (docs/design/apps.md).
export { runRadar, RadarState, type RadarOptions, type RadarResult, type DigestSection } from './radar/radar.ts';
export { readFeeds, parseFeed, loadFeedsFile, normaliseUrl, FeedSource, type FeedItem, type FeedRead, type Problem } from './radar/feeds.ts';
export { Subject, SubjectsFile, classifyPrompt, digestPrompt } from './radar/subjects.ts';
export { renderDigestMarkdown, renderDigestHtml, writeDigest } from './radar/digest.ts';
export { correctSubject, readCorrections, radarCases, Correction, LabelledItems } from './radar/cases.ts';
export { runTriage, feedbackToTask, feedbackCases, Triage, TriagedCluster, LabelledFeedback, type TriageOptions, type ToTaskOptions } from './feedback/triage.ts';
export { ingestFile, parseCsv, FeedbackReport, type IngestRead } from './feedback/ingest.ts';
export { clusterReports, type Cluster } from './feedback/cluster.ts';
export { FeedbackConfig, Area, ruleArea, classifyFeedbackPrompt } from './feedback/areas.ts';
export { createKeyedModel, loadKeyedModel, createAppModel, KeyedScript } from './keyed-model.ts';
export { createAppRun, outcomeText } from './run.ts';
