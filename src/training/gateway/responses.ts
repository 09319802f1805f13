// `/v1/responses`, served through the upstream's chat completions (see responses-request.ts and
// responses-output.ts for the two directions).
import type { ClientApiHandler, Prepared } from './api.ts';
import { ASKED_NOTHING } from './capture.ts';
import { chatKind } from './chat.ts';
import { neutralChatRequest } from './neutral.ts';
import { ResponsesTranslator } from './responses-output.ts';
import { responsesToChat } from './responses-request.ts';

export const responsesApi: ClientApiHandler = {
  api: 'responses',
  prepare(body): Prepared {
    const translated = responsesToChat(body);
    return {
      api: 'responses',
      kind: chatKind,
      upstream: translated.chat,
      stream: body.stream === true,
      asked: ASKED_NOTHING,
      model: typeof body.model === 'string' ? body.model : undefined,
      translator: () => new ResponsesTranslator(body, translated),
      neutral: (options) => neutralChatRequest(translated.chat, options),
    };
  },
};
