import { Command, CommanderError } from 'commander';
import { GAUNTLET_VERSION } from '../core/index.ts';
import { registerAnswersCommand } from './commands/answers.ts';
import { registerCatalogCommands } from './commands/catalog.ts';
import { registerEvalCommands } from './commands/eval.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerFakeEngineCommand } from './commands/fake-engine.ts';
import { registerFormatCommands } from './commands/formats.ts';
import { registerInspectCommands } from './commands/inspect.ts';
import { registerInteropCommands } from './commands/interop.ts';
import { registerMockModelCommand } from './commands/mock-model.ts';
import { registerPrecisionCommand } from './commands/precision.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerSchemaCommand } from './commands/schema.ts';
import { registerServeEnvCommand } from './commands/serve-env.ts';
import { registerServeRolloutsCommand } from './commands/serve-rollouts.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { registerDetectCommand } from './commands/detect.ts';
import { registerGatewayCommand } from './commands/gateway.ts';
import { registerReviewCommands } from './commands/review.ts';
import { registerRobustnessCommand } from './commands/robustness.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerWorkerCommand } from './commands/worker.ts';
import { registerQueueCommand } from './commands/queue.ts';
import { registerProbesCommand } from './commands/probes.ts';
import { registerSandboxServerCommand } from './commands/sandbox-server.ts';
import { registerK8sReapCommand } from './commands/k8s-reap.ts';
import { registerAgentsCommand } from './commands/agents.ts';
import { registerFeedbackCommands } from './commands/feedback.ts';
import { registerRadarCommand } from './commands/radar.ts';
import { registerStoreCommands } from './commands/store.ts';
import { addEnvironmentModules } from './env-modules.ts';
import type { CliIo } from './io.ts';

export function createProgram(io: CliIo): Command {
  const program = new Command('gauntlet')
    .description('Environments, rollouts, rewards and confident evaluations for agent models')
    .version(GAUNTLET_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerRunCommand(program, io);
  registerInspectCommands(program, io);
  registerStoreCommands(program, io);
  registerExportCommand(program, io);
  registerCatalogCommands(program, io);
  registerMockModelCommand(program, io);
  registerFakeEngineCommand(program, io);
  registerValidateCommand(program, io);
  registerEvalCommands(program, io);
  registerFormatCommands(program, io);
  registerSchemaCommand(program, io);
  registerInteropCommands(program, io);
  registerAnswersCommand(program, io);
  registerPrecisionCommand(program, io);
  registerServeEnvCommand(program, io);
  registerServeRolloutsCommand(program, io);
  registerGatewayCommand(program, io);
  registerDetectCommand(program, io);
  registerRobustnessCommand(program, io);
  registerServeCommand(program, io);
  registerReviewCommands(program, io);
  registerWorkerCommand(program, io);
  registerQueueCommand(program, io);
  registerProbesCommand(program, io);
  registerSandboxServerCommand(program, io);
  registerK8sReapCommand(program, io);
  registerAgentsCommand(program, io);
  registerRadarCommand(program, io);
  registerFeedbackCommands(program, io);
  // After every command exists: it gives --env-module to those that take environments.
  addEnvironmentModules(program, io);
  // Subcommands inherit the error handling: no process.exit inside commander.
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

export { CommanderError };
