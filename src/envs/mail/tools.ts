import type { ToolDefinition } from '../define.ts';
import { create_draft, forward, reply, send_draft, send_message, submit } from './tools-compose.ts';
import {
  add_contact,
  add_label,
  create_folder,
  delete_message,
  mark_read,
  mark_unread,
  move_message,
  remove_label,
  star_message,
  update_contact,
} from './tools-organise.ts';
import { list_contacts, list_folders, read_message, read_thread, search_contacts, search_messages } from './tools-read.ts';

/** Every mail tool. Each acts on one message or contact per call, as a real mail client does. */
export const mailTools: Record<string, ToolDefinition> = {
  list_folders,
  search_messages,
  read_message,
  read_thread,
  send_message,
  reply,
  forward,
  create_draft,
  send_draft,
  create_folder,
  move_message,
  add_label,
  remove_label,
  mark_read,
  mark_unread,
  star_message,
  delete_message,
  list_contacts,
  search_contacts,
  add_contact,
  update_contact,
  submit,
};
