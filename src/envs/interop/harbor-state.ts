// What an imported Harbor / Terminal-Bench task puts in `initialState`: where its work dir is
// mounted (the image's WORKDIR), the build steps replayed in the sandbox at every reset, the
// image's environment, and the resources its task.toml asks for.
import { z } from 'zod';

const RelativePath = z
  .string()
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path relative to the work dir, without ..');

/** One file placed by a build step: text, or bytes as base64 (databases, images, encrypted blobs). */
export const PlacedFile = z
  .object({
    path: RelativePath.pipe(z.string().min(1)),
    text: z.string().optional(),
    base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64').optional(),
    executable: z.boolean().default(false),
  })
  .refine((f) => (f.text === undefined) !== (f.base64 === undefined), 'give exactly one of text or base64');
export type PlacedFile = z.infer<typeof PlacedFile>;

export const BuildStep = z.discriminatedUnion('kind', [
  /** COPY / ADD: files placed in the work dir. */
  z.object({ kind: z.literal('files'), at: z.string(), files: z.array(PlacedFile) }),
  /** WORKDIR: the folder exists from then on. */
  z.object({ kind: z.literal('mkdir'), at: z.string(), path: RelativePath }),
  /** ADD of a local tar archive: unpacked into `dest`. */
  z.object({ kind: z.literal('unpack'), at: z.string(), name: z.string().min(1), base64: z.string(), dest: RelativePath }),
  /** RUN, network commands already skipped; `cwd` is relative to the work dir. */
  z.object({
    kind: z.literal('run'),
    at: z.string(),
    script: z.string(),
    shell: z.array(z.string()).min(1),
    cwd: RelativePath,
    env: z.record(z.string(), z.string()).default({}),
  }),
]);
export type BuildStep = z.infer<typeof BuildStep>;

export const HarborState = z
  .object({
    /** The image's WORKDIR: the sandbox mounts the work dir here, so absolute paths stay as written. */
    workdir: z
      .string()
      .startsWith('/', 'an absolute path')
      .refine((p) => p !== '/', 'not / itself'),
    build: z.array(BuildStep).default([]),
    /** The image's ENV, seen by the agent's commands, the solution and the tests. */
    env: z.record(z.string(), z.string()).default({}),
    /** Commands the base image has under another name here (`python` → `python3`). */
    aliases: z.record(z.string(), z.string()).default({}),
    timeouts: z.object({
      agentSec: z.number().positive(),
      verifierSec: z.number().positive(),
      buildSec: z.number().positive(),
    }),
    resources: z.object({ memoryMb: z.number().positive(), storageMb: z.number().positive() }),
    /**
     * The image the task's Dockerfile builds FROM. Sandboxes that run images (k8s) start from it
     * and replay the build steps on top; the others replay them on their machine's system.
     */
    image: z.string().regex(/^\S+$/, 'an image reference without whitespace').optional(),
    /** A prebuilt image that is the task's whole system (no build steps to replay): it runs only where sandboxes run images. */
    imageOnly: z.literal(true).optional(),
  })
  .loose();
export type HarborState = z.infer<typeof HarborState>;
