import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export interface LocalNotifyOptions {
  /** The stack's esbuild work folder; serverless-esbuild writes the notify bundle under `<buildDir>/.build`. */
  buildDir: string;
  /** Where the wrapper goes; serverless-offline-sns's `location` (QM_SNS_LOCATION) is this, relative to cwd. */
  outDir: string;
  functionArn: string;
  retryDelaysMs: readonly number[];
  /** Notify invocations run at once (Lambda's concurrency); the others wait in order. */
  concurrency: number;
  sqsEndpoint: string;
  dlqUrl: string;
  region: string;
}

/**
 * Writes the notify handler serverless-offline-sns loads in the local stack:
 * scripts/lib/notify-local-entry.ts bundled with this stack's settings, at
 * `<outDir>/functions/notify/handler.js` (the plugin resolves the function's
 * `handler` path under its `location`). It imports the real bundle lazily, at
 * the plugin's import, after serverless-esbuild has built it. Nothing in
 * node_modules changes, so a fresh `npm ci` keeps the behaviour.
 */
const bundle = (entry: string, outfile: string, define: Record<string, unknown>) =>
  build({
    entryPoints: [resolve(entry)],
    outfile,
    bundle: true,
    // The AWS SDK is resolved from this checkout's node_modules at run time (outDir is inside it).
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    define: Object.fromEntries(Object.entries(define).map(([k, v]) => [k, JSON.stringify(v)])),
  });

/** What writeLocalNotify wrote: the handler the plugin loads, and the preload for NODE_OPTIONS. */
export interface LocalNotifyFiles {
  handler: string;
  preload: string;
}

export const writeLocalNotify = async (o: LocalNotifyOptions): Promise<LocalNotifyFiles> => {
  const out = resolve(o.outDir);
  const file = join(out, 'functions/notify/handler.js');
  mkdirSync(join(out, 'functions/notify'), { recursive: true });
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  const config = {
    bundle: pathToFileURL(resolve(o.buildDir, '.build/functions/notify/handler.js')).href,
    functionArn: o.functionArn,
    retryDelaysMs: [...o.retryDelaysMs],
    concurrency: o.concurrency,
    sqsEndpoint: o.sqsEndpoint,
    dlqUrl: o.dlqUrl,
    region: o.region,
  };
  await bundle('scripts/lib/notify-local-entry.ts', file, { __QM_LOCAL_NOTIFY__: config });
  const preload = join(out, 'sns-patch.js');
  await bundle('scripts/lib/sns-patch-entry.ts', preload, {
    __QM_SNS_PATCH__: {
      snsServer: pathToFileURL(resolve('node_modules/serverless-offline-sns/dist/sns-server.js')).href,
      concurrency: o.concurrency,
      // SNS retries a Lambda delivery for much longer; locally about 40 s, then the redrive policy.
      delaysMs: [100, 250, 500, 1000, 2000, 4000, 8000, 8000, 16000],
      sqsEndpoint: o.sqsEndpoint,
      dlqUrl: o.dlqUrl,
      region: o.region,
    },
  });
  return { handler: file, preload };
};
