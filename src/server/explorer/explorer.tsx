/**
 * The browser side of rungraph's explorer: GraphiQL 5 with the contract's Dashboard operation in
 * the first tab. scripts/build-explorer.mjs bundles this file, React, GraphiQL, Monaco and the
 * three Monaco workers into dist/explorer/, and the gateway serves them itself (serve.ts): the page
 * needs nothing from the network beyond the gateway, and its Content-Security-Policy forbids the rest.
 */
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import dashboard from './dashboard.graphql';

/** Hashed worker file names, filled in by the build (esbuild `define`). */
declare const RUNGRAPH_EXPLORER_WORKERS: { editor: string; json: string; graphql: string };

// Workers live beside this script, wherever the gateway is mounted.
const assetBase = new URL('./', (document.currentScript as HTMLScriptElement | null)?.src ?? document.baseURI);

(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    const file = label === 'json' ? RUNGRAPH_EXPLORER_WORKERS.json : label === 'graphql' ? RUNGRAPH_EXPLORER_WORKERS.graphql : RUNGRAPH_EXPLORER_WORKERS.editor;
    return new Worker(new URL(file, assetBase), { name: `monaco-${label}` });
  },
};

// The page is served at …/graphql (or at the root, where the endpoint is ./graphql).
const endpoint = /\/graphql$/.test(location.pathname) ? new URL(location.pathname, location.origin) : new URL('graphql', location.href);
const fetcher = createGraphiQLFetcher({ url: endpoint.href });

const root = document.getElementById('graphiql');
if (!root) throw new Error('rungraph explorer: #graphiql is missing from the page');
createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    // Every visit opens (or returns to) a Dashboard tab; other tabs the user made stay in storage.
    initialQuery={dashboard}
    initialVariables={JSON.stringify({ first: 10 }, null, 2)}
    defaultEditorToolsVisibility="variables"
    isHeadersEditorEnabled
    shouldPersistHeaders={false}
  />,
);
