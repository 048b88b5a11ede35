import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The official DynamoDB Local jar, taken from the npm package
 * amplify-dynamodb-simulator (its `emulator/` folder) with `npm pack`, so no
 * 350 MB install and no download from outside the npm registry.
 */
const SIMULATOR = 'amplify-dynamodb-simulator@2.9.30';
const CACHE = resolve('.cache/dynamodb-local');

/** Ensures the jar is unpacked under .cache/; returns the emulator folder. */
export const ensureDynamoDbLocal = (): string => {
  const emulator = join(CACHE, 'emulator');
  if (existsSync(join(emulator, 'DynamoDBLocal.jar'))) return emulator;
  const tmp = `${CACHE}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tgz = execFileSync('npm', ['pack', SIMULATOR, '--silent', '--pack-destination', tmp], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', join(tmp, tgz ?? ''), '-C', tmp, 'package/emulator']);
  mkdirSync(CACHE, { recursive: true });
  if (!existsSync(join(emulator, 'DynamoDBLocal.jar'))) {
    rmSync(emulator, { recursive: true, force: true });
    renameSync(join(tmp, 'package/emulator'), emulator);
  }
  rmSync(tmp, { recursive: true, force: true });
  return emulator;
};

/** Starts DynamoDB Local in memory on `port`; resolves when it accepts requests. */
export const startDynamoDbLocal = async (port: number): Promise<ChildProcess> => {
  const emulator = ensureDynamoDbLocal();
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(emulator, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    // cwd: it writes a metadata file where it runs
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: CACHE, detached: true },
  );
  let log = '';
  child.stdout?.on('data', (d) => {
    log += d;
  });
  child.stderr?.on('data', (d) => {
    log += d;
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${log}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      if (r.status > 0) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error(`DynamoDB Local did not start on port ${port}: ${log}`);
};
