import type { Command } from 'commander';
import { errorMessage, InputError } from '../../core/index.ts';
import { checkNamespace, K8S_NAMESPACE_VARIABLE, probeK8sSandboxes, reapK8sSandboxes } from '../../sandbox/index.ts';
import { K8S_CLUSTER_EXPECTED } from '../../sandbox/k8s/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { number } from '../options.ts';

interface K8sReapFlags {
  namespace?: string;
  grace: number;
  json?: boolean;
}

export function registerK8sReapCommand(program: Command, io: CliIo): void {
  program
    .command('k8s-reap')
    .description('Delete k8s sandbox pods whose lease ran out (their Gauntlet process died); for a CronJob when no run is using the namespace')
    .option('--namespace <name>', `namespace to sweep (default ${K8S_NAMESPACE_VARIABLE}, else the kubeconfig context's)`)
    .option('--grace <seconds>', "slack past a lease's end before its pod is deleted, for clocks that disagree", number('--grace', { min: 0 }), 60)
    .option('--json', 'one JSON document on stdout: { server, namespace, deleted }')
    .action(async (flags: K8sReapFlags) => {
      // An empty --namespace is refused like any other bad name, not read as "no flag"; an empty
      // variable is unset, as everywhere else.
      const fromEnv = io.env[K8S_NAMESPACE_VARIABLE]?.trim();
      const namespace = flags.namespace !== undefined ? checkNamespace(flags.namespace, '--namespace') : fromEnv ? checkNamespace(fromEnv, K8S_NAMESPACE_VARIABLE) : undefined;
      const target = await probeK8sSandboxes(namespace !== undefined ? { namespace } : {}).catch((error: unknown) => {
        if (error instanceof InputError) throw error;
        // As `run --sandbox k8s` says it: an API that cannot be used is most often no (or the wrong) kubeconfig.
        throw new Error(`k8s sandbox pods cannot be swept: ${errorMessage(error)} (expected ${K8S_CLUSTER_EXPECTED})`, { cause: error });
      });
      const deleted = await reapK8sSandboxes({ namespace: target.namespace, graceMs: Math.round(flags.grace * 1000) });
      if (flags.json) return printJson(io, { ...target, deleted });
      io.stdout(`${deleted.length === 0 ? 'no expired sandbox pods' : `deleted ${deleted.length} expired sandbox pod${deleted.length === 1 ? '' : 's'}: ${deleted.join(', ')}`} in ${target.namespace} (${target.server})\n`);
    });
}
