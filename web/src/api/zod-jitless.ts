// The server's policy forbids eval. zod probes for it (and decides whether to compile parsers) as
// each object schema is built, so this must run before any schema module: schemas.ts imports it first.
import { z } from 'zod';

z.config({ jitless: true });
