import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP relay on loopback in front of a real server (here DynamoDB Local) that a
 * test can close and open: closed, every connection open through it is reset and
 * each new one is reset on arrival, as when the store process is killed; open,
 * bytes pass both ways untouched.
 */
export interface TcpGate {
  url: string;
  close(): void;
  open(): void;
  /** Connections reset while closed, so far. */
  refused(): number;
  stop(): Promise<void>;
}

export const startTcpGate = async (targetPort: number): Promise<TcpGate> => {
  let isOpen = true;
  let refused = 0;
  const live = new Set<Socket>();
  const server = createServer((client) => {
    if (!isOpen) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    live.add(client);
    live.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      isOpen = false;
      for (const s of live) s.resetAndDestroy();
      live.clear();
    },
    open: () => {
      isOpen = true;
    },
    refused: () => refused,
    stop: () =>
      new Promise((r) => {
        for (const s of live) s.destroy();
        server.close(() => r());
      }),
  };
};
