// Exec replies on the sandbox server. Room for one in the body budget is taken before its command
// runs: a refusal then ran nothing, and the client sends the exec again after Retry-After; a
// refusal after it ran would lose what the command did, and sending it again would run it twice.
// The room is the sandbox's output limit (stdout and stderr together are cut there); once the reply
// is made it holds its own length instead, until it has been sent.
import type { ExecResult } from '../../core/index.ts';
import { describeBytes, type BodyBudget } from '../body-budget.ts';
import { BudgetShare, busyMessage, bytesReply, type ReplyRefusal } from './held-reply.ts';

/** Room for the reply of a command whose output is cut at `maxOutputBytes`, taken now (before it runs), or why not. */
export function holdExecReply(maxOutputBytes: number, budget: BodyBudget): BudgetShare | ReplyRefusal {
  if (maxOutputBytes > budget.limitBytes) {
    return {
      code: 'too_large',
      message: `the sandbox's output limit of ${maxOutputBytes} bytes, which a command's reply is held within, is more than the ${describeBytes(budget.limitBytes)} the server holds for ${budget.holds} at once (--max-body-memory)`,
    };
  }
  const share = BudgetShare.take(budget, maxOutputBytes);
  return share ?? { code: 'capacity', message: busyMessage(budget, `this command's reply (its sandbox's output limit, ${maxOutputBytes} bytes, held before it runs)`) };
}

/**
 * The command's result as the JSON it always was, holding `share` resized to the reply's length: less
 * than the room taken gives the rest back; more (JSON escapes a control character in six bytes) is
 * taken where the budget has it, else the reply goes out over it, since the command has run.
 */
export function execReply(result: ExecResult, share: BudgetShare, signal: AbortSignal): Response {
  const bytes = Buffer.from(JSON.stringify(result), 'utf8');
  share.resize(bytes.length);
  return bytesReply(bytes, share, signal);
}
