// Simulated users (tau-bench style): a persona with private facts plays the person the agent
// works for; the agent must ask before it acts. See docs/design/simulated-users.md.
export { STOP, UserFact, UserScenario, scenarioOf, type UserScenarioInput } from './scenario.ts';
export { actionGate, asksConfirmation, isConfirmation, isReport, mentionsWord, type LogEntry } from './conversation.ts';
export { createScriptedUser, MAX_REPLIES_AFTER_REPORT, type ScriptedFault, type ScriptedUserOptions, type UserReplyInput, type UserSimulator } from './simulator.ts';
export { createLlmUser, USER_REPLY_TIMEOUT_MS, userModelFrom, userSystemPrompt, userMessages, type LlmUserOptions, type UserCallRecord, type UserModel } from './llm-user.ts';
export { detectSimulatorFault, repliesAfterReport, type SimulatorFault, type SimulatorFaultKind } from './monitor.ts';
export { ask_user, MAX_USER_EXCHANGES, readUserLog, talkToUser, USER_LOG_SCHEMA, userFollowUp, withUserTools, type UserExchange } from './session.ts';
export { userChecks } from './checks.ts';
export { createActFirstPolicy, USER_SYSTEM_NOTE } from './policies.ts';
