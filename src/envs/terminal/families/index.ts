// Generated task families: parameters in, deterministic files + verifier + golden solution out.
import type { Task } from '../../../core/index.ts';
import { credentialRotationTask } from './credentials.ts';
import { csvRepairTask } from './csv-repairs.ts';
import { docLinksTask } from './doc-links.ts';
import { portAssignmentTask } from './ports.ts';
import { releaseBumpTask } from './releases.ts';
import { regionalSalesTask, topClientsTask } from './reports.ts';
import { ticketTriageTask } from './tickets.ts';

export function terminalFamilyTasks(): Task[] {
  return [
    topClientsTask(1),
    topClientsTask(2),
    regionalSalesTask(1),
    regionalSalesTask(3),
    releaseBumpTask(1, 12),
    releaseBumpTask(2, 14),
    docLinksTask(1, 10),
    docLinksTask(2, 12),
    portAssignmentTask(1, 20),
    portAssignmentTask(2, 24),
    ticketTriageTask(1, 20),
    ticketTriageTask(2, 22),
    credentialRotationTask(1, 22, 2),
    csvRepairTask(1, 20),
  ];
}
