import { defineWorldEvent, type WorldEventDefinition } from '../define.ts';
import { calendarEvents } from '../calendar/index.ts';
import { mailEvents } from '../mail/index.ts';
import { notesEvents } from '../notes/index.ts';
import { ChatMessageFixture } from './chat-schema.ts';
import { insertChatFixture } from './chat-seed.ts';
import { adaptAll, adaptEvent } from './compose.ts';

/** A colleague posts in a channel, a thread or a DM while the agent works ("update: the review moved to Thursday"). */
export const chatMessagePosted = defineWorldEvent({
  description: 'A colleague posts a chat message now (in a channel, a thread with `thread`, or "@handle" for a DM to me). Give `id` (cm_ + four digits) so checks can name it.',
  params: ChatMessageFixture,
  apply: (message, ctx) => insertChatFixture(ctx, message, `event chat_message_posted (${message.id})`),
});

export const workplaceEvents: Record<string, WorldEventDefinition> = {
  ...adaptAll(mailEvents, (e) => adaptEvent(e, 'mail')),
  ...adaptAll(notesEvents as Record<string, WorldEventDefinition>, (e) => adaptEvent(e, 'notes')),
  ...adaptAll(calendarEvents as Record<string, WorldEventDefinition>, (e) => adaptEvent(e, 'calendar')),
  chat_message_posted: chatMessagePosted,
};
