import { InputError } from '../../../core/index.ts';
import type { ExportTarget, TargetName } from '../unit.ts';
import { generic } from './generic.ts';
import { primeLegacy, primeTrainingSample } from './prime-rl.ts';
import { sft } from './sft.ts';
import { skyrl, skyrlStepWise } from './skyrl.ts';
import { trlAsync, trlRolloutFunc } from './trl.ts';
import { verl } from './verl.ts';

/** Every target's variants; the first is the default. */
export const TARGETS: Readonly<Record<TargetName, readonly ExportTarget[]>> = {
  verl: [verl],
  skyrl: [skyrl, skyrlStepWise],
  trl: [trlRolloutFunc, trlAsync],
  'prime-rl': [primeTrainingSample, primeLegacy],
  generic: [generic],
  sft: [sft],
};

export function resolveTarget(name: TargetName, variant?: string): ExportTarget {
  const variants = TARGETS[name];
  const found = variant === undefined ? variants[0] : variants.find((t) => t.variant === variant);
  if (!found) throw new InputError('--variant', `"${variant}" is not a variant of ${name}`, `one of ${variants.map((t) => t.variant).join(', ')}`);
  return found;
}

export { generic, primeLegacy, primeTrainingSample, sft, skyrl, skyrlStepWise, trlAsync, trlRolloutFunc, verl };
