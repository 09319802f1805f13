import { defineWorldEvent, type WorldEventDefinition } from '../define.ts';
import { MessageFixture } from './schema.ts';
import { insertFixtureMessage } from './seed.ts';

/** Things that happen to the mailbox while the agent works. */
export const mailEvents: Record<string, WorldEventDefinition> = {
  new_mail_arrives: defineWorldEvent({
    description: 'A message is delivered now (to the inbox unless `folder` says otherwise). Give `id` so verifiers and golden steps can name it.',
    params: MessageFixture,
    apply: (message, ctx) => {
      // Arrivals are stamped with the episode clock unless the task pins a time.
      const fixture = message.sentAt || message.hoursAgo !== undefined ? message : { ...message, hoursAgo: 0 };
      insertFixtureMessage(ctx, fixture, `event new_mail_arrives (${message.subject})`);
    },
  }),
};
