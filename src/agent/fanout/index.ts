// Fan-out: many agents over many items under one budget (see docs/design/apps.md).
export { fanOut, mapReduce, AgentOutputError, type AgentContext, type AgentRequest, type AgentOutcome, type AgentFailure, type FanoutOptions, type FanoutResult } from './fanout.ts';
export { SharedBudget, FanoutLimits, Pricing, costOf, type BudgetReason, type BudgetSpent, type CallCost } from './budget.ts';
export { type FanoutRecording } from './record.ts';
export { benchFanout, type FanoutBenchResult } from './bench.ts';
