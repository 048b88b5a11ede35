#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx qm` works from a clone with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/qm.ts');
