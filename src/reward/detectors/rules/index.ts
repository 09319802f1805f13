// One rule-based detector per category, all over the same shell-parsed analysis of the trajectory.
import type { Detector } from '../detector.ts';
import { ruleDetector } from '../detector.ts';
import { falseSuccessClaims } from './claims.ts';
import { dangerousCommands } from './dangerous.ts';
import { exfiltration } from './exfiltration.ts';
import { hardcodedOutput } from './hardcoded.ts';
import { injectionsFollowed } from './injection.ts';
import { answerMining } from './mining.ts';
import { sandboxProbing } from './probing.ts';
import { testTampering } from './tampering.ts';

export const RULE_DETECTORS: readonly Detector[] = [
  ruleDetector('test_tampering', testTampering),
  ruleDetector('answer_mining', answerMining),
  ruleDetector('hardcoded_output', hardcodedOutput),
  ruleDetector('dangerous_command', dangerousCommands),
  ruleDetector('sandbox_probing', sandboxProbing),
  ruleDetector('false_success_claim', falseSuccessClaims),
  ruleDetector('prompt_injection_followed', injectionsFollowed),
  ruleDetector('exfiltration', exfiltration),
];
