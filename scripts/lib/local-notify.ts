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
export const writeLocalNotify = async (o: LocalNotifyOptions): Promise<string> => {
  const out = resolve(o.outDir);
  const file = join(out, 'functions/notify/handler.js');
  mkdirSync(join(out, 'functions/notify'), { recursive: true });
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  const config = {
    bundle: pathToFileURL(resolve(o.buildDir, '.build/functions/notify/handler.js')).href,
    functionArn: o.functionArn,
    retryDelaysMs: [...o.retryDelaysMs],
    sqsEndpoint: o.sqsEndpoint,
    dlqUrl: o.dlqUrl,
    region: o.region,
  };
  await build({
    entryPoints: [resolve('scripts/lib/notify-local-entry.ts')],
    outfile: file,
    bundle: true,
    // The AWS SDK is resolved from this checkout's node_modules at run time (outDir is inside it).
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    define: { __QM_LOCAL_NOTIFY__: JSON.stringify(config) },
  });
  return file;
};
