#!/usr/bin/env node
// `npx qm-agent`: runs the TypeScript agent in place through tsx's ESM loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../agent/cli.ts');
process.exit(await main(process.argv));
