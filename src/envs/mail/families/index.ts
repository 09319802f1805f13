import type { Task } from '../../../core/index.ts';
import { fileReceiptTasks } from './file-receipts.ts';
import { labelVendorTasks } from './label-vendor.ts';
import { newsletterTasks } from './newsletters.ts';
import { orderEnquiryTasks } from './order-enquiries.ts';
import { routingTasks } from './routing.ts';
import { triageTasks } from './triage.ts';

/** Tasks generated from parameterised families (bulk work where each item needs its own calls). */
export function mailFamilyTasks(): Task[] {
  return [...labelVendorTasks(), ...fileReceiptTasks(), ...orderEnquiryTasks(), ...newsletterTasks(), ...routingTasks(), ...triageTasks()];
}
