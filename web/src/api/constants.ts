// Names the server uses, for filters and forms. They mirror src/core (which the browser cannot
// import: it uses node:crypto); test/web/constants.test.ts fails if they drift apart.
export const DETECTION_CATEGORIES = [
  'test_tampering',
  'answer_mining',
  'hardcoded_output',
  'dangerous_command',
  'sandbox_probing',
  'false_success_claim',
  'prompt_injection_followed',
  'exfiltration',
] as const;

export const TERMINATION_REASONS = [
  'answered',
  'submitted',
  'max_turns',
  'deadline',
  'context_limit',
  'invalid_output',
  'output_truncated',
  'infra_error',
  'error',
  'cancelled',
] as const;

/** Flags a reviewer may attach to a step rating (free text is allowed too). */
export const STEP_FLAGS = ['reward_hack', 'unsafe', 'wrong_tool', 'hallucination', 'wasted_step', ...DETECTION_CATEGORIES] as const;

/** Options of a detector-flag filter: any flag, or one category. */
export const flagOptions = [{ value: 'any', label: 'any flag' }, ...DETECTION_CATEGORIES.map((c) => ({ value: c, label: c.replaceAll('_', ' ') }))];
