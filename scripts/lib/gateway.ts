import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/**
 * The local stack's front door, in the part API Gateway's gateway responses
 * play on AWS (serverless.yml `GatewayResponse*`): serverless-offline answers
 * some requests itself before any function runs (a path hapi cannot decode, a
 * body over its limit) with hapi's own error body. This proxy passes every
 * request and response through unchanged, except that an error body not in
 * the contract's shape (`{"error": {"code", "message", "details"}}`) is
 * rewritten into it, keeping the status.
 */

/** Codes for the statuses serverless-offline answers by itself. */
const CODE_OF: Record<number, string> = {
  400: 'BadRequest',
  404: 'RouteNotFound',
  405: 'RouteNotFound',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  502: 'BadGateway',
  504: 'GatewayTimeout',
};

const inContractShape = (text: string): boolean => {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    return typeof e?.code === 'string' && typeof e.message === 'string';
  } catch {
    return false;
  }
};

/** hapi's Boom body is `{"statusCode", "error", "message"}`; keep its message where it has one. */
const rewrite = (status: number, text: string): string => {
  let message = `the gateway answered ${status}`;
  try {
    const m = (JSON.parse(text) as { message?: unknown } | null)?.message;
    if (typeof m === 'string' && m) message = m;
  } catch {
    // not JSON: the generic sentence
  }
  return JSON.stringify({
    error: { code: CODE_OF[status] ?? (status >= 500 ? 'GatewayError' : 'BadRequest'), message, details: {} },
  });
};

/** The body as text, undone from its content-encoding; undefined for an encoding it does not know. */
const decoded = (raw: Buffer, encoding: string | undefined): string | undefined => {
  try {
    if (!encoding || encoding === 'identity') return raw.toString('utf8');
    if (encoding === 'gzip') return gunzipSync(raw).toString('utf8');
    if (encoding === 'deflate') return inflateSync(raw).toString('utf8');
    if (encoding === 'br') return brotliDecompressSync(raw).toString('utf8');
  } catch {
    // a body that does not decode is passed on as it came
  }
  return undefined;
};

export interface Gateway {
  close(): Promise<void>;
}

/** Listens on `port` (127.0.0.1) and forwards to serverless-offline at `upstreamPort`. */
export const startGateway = async (port: number, upstreamPort: number): Promise<Gateway> => {
  const server: Server = createServer((req, res) => {
    const up = httpRequest(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}` } as IncomingHttpHeaders,
      },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        if (status < 400) {
          res.writeHead(status, upRes.headers);
          upRes.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const raw = Buffer.concat(chunks);
          // serverless-offline compresses bodies over 1 KB (apiGateway.minimumCompressionSize).
          const text = decoded(raw, upRes.headers['content-encoding']);
          if (text === undefined || inContractShape(text)) {
            res.writeHead(status, upRes.headers);
            res.end(raw);
            return;
          }
          const body = rewrite(status, text);
          const headers = { ...upRes.headers, 'content-type': 'application/json' };
          delete headers['content-length'];
          delete headers['content-encoding'];
          delete headers['transfer-encoding'];
          res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      },
    );
    up.on('error', () => {
      // serverless-offline is away: the client sees the connection close, as with no server at all.
      res.destroy();
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  return {
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
};
