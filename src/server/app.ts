/**
 * The gateway process: Apollo Server 5 behind a plain node:http handler (no framework), which
 * also serves /healthz. GraphQL lives at /graphql (POST, and GET for queries with Apollo's CSRF
 * prevention on: GET clients send `apollo-require-preflight: true`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { buildSchema } from '../graph';
import { Catalog } from '../model/catalog';
import type { Logger, Source } from '../model/source';
import { closeHttpAgent } from '../http/upstream';
import { createContext, type GraphContext } from './context';
import { formatError } from './errors';
import { partialFailuresPlugin } from './plugins';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface GatewayOptions {
  sources: Source[];
  log: Logger;
  host?: string;
  port?: number;
  /** Off only for the benchmark's naive contender. */
  batching?: boolean;
}

export interface Gateway {
  /** e.g. http://127.0.0.1:4000 */
  origin: string;
  graphqlUrl: string;
  catalog: Catalog;
  server: Server;
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { log } = options;
  const catalog = new Catalog(options.sources);
  const apollo = new ApolloServer<GraphContext>({
    schema: buildSchema(),
    // Inline traces (ftv1) are for a federation gateway that asks for them; naming the plugin
    // keeps Apollo from announcing it on stdout.
    plugins: [partialFailuresPlugin, ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTrace()],
    formatError: formatError(log),
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    introspection: true,
  });
  await apollo.start();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: `Nothing at ${url.pathname}; GraphQL is at /graphql.` });
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return sendJson(res, 405, { error: 'GraphQL takes GET (queries) and POST.' });
    }
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readBody(req);
      if (read.tooLarge) return sendJson(res, 413, { errors: [{ message: `Request body over ${MAX_BODY_BYTES} bytes.`, extensions: { code: 'BAD_REQUEST' } }] });
      body = parseBody(read.text, req.headers['content-type']);
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: req.method, headers, search: url.search, body };
    const requestId = typeof req.headers['x-request-id'] === 'string' && /^[\w.-]{1,100}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => createContext({ catalog, log, requestId, batching: options.batching }),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.setHeader('x-request-id', requestId);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };

  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      log.error({ err: { message: (error as Error)?.message } }, 'request handler failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;
  log.info({ origin, sources: catalog.sources.map((s) => s.info.id) }, 'rungraph listening');

  return {
    origin,
    graphqlUrl: `${origin}/graphql`,
    catalog,
    server,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await apollo.stop();
      await Promise.all(options.sources.map((s) => s.close()));
      await closeHttpAgent();
    },
  };
}

async function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { text: '', tooLarge: true };
    chunks.push(chunk as Buffer);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: false };
}

/** Apollo wants a parsed JSON body; anything else is passed as text and Apollo answers 400. */
function parseBody(text: string, contentType: string | undefined): unknown {
  if (contentType && /application\/json/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
