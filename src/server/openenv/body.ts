// Request-body limits: the implementation is shared with `sandbox-server` (../body-budget.ts); its
// names stay importable from here.
export { BodyBudget, bufferBody, describeBytes, REFUSAL_STATUS, type BodyLimits, type BodyRefusal, type Buffered, type RefusalReply, type RefusalStatus } from '../body-budget.ts';
