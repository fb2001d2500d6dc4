/**
 * Apollo Server plugins, one concern each.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GraphContext } from '../graph/context';
import { formatDateTime } from '../graph/scalars';

/**
 * List fields over several sources answer with what the healthy sources gave; each failed source
 * adds one error at the list's path (decisions.md, "Partial results").
 */
export const partialFailuresPlugin: ApolloServerPlugin<GraphContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        const failures = contextValue.partialFailures;
        if (response.body.kind !== 'single' || failures.length === 0) return;
        const extra = failures.map(({ error, path }) =>
          new GraphQLError(error.message, { path, extensions: error.extensions }).toJSON(),
        );
        const result = response.body.singleResult;
        result.errors = [...(result.errors ?? []), ...extra];
      },
    };
  },
};

/** Records the operation's type on the context for the HTTP layer (app.ts: response size cap). */
export const operationTypePlugin: ApolloServerPlugin<GraphContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, contextValue }) {
        contextValue.operation.type = operation?.operation;
      },
    };
  },
};

/**
 * `extensions.sync` (decisions.md, Run index): every response that read the index says, per source
 * it read from the index, how fresh that part was — for direct clients; `answeredBy` carries the
 * same in the data for clients behind routers that drop extensions.
 */
export const syncExtensionsPlugin: ApolloServerPlugin<GraphContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== 'single') return;
        const used = contextValue.reads.indexedSources?.(contextValue.scope) ?? [];
        if (used.length === 0) return;
        const now = Date.now() / 1000;
        const sync = used.map((source) => {
          const status = contextValue.reads.syncStatus(source);
          return {
            source,
            state: status.state,
            syncedAt: status.syncedAt === null ? null : formatted(status.syncedAt),
            lagSeconds: status.syncedAt === null ? null : Math.max(0, Math.floor(now - status.syncedAt)),
            // With a shared index: which replica runs this source's sync.
            ...(status.leader === null ? {} : { leader: status.leader }),
          };
        });
        const result = response.body.singleResult;
        result.extensions = { ...result.extensions, sync };
      },
    };
  },
};

/** syncedAt changes once a cycle; every response in between formats the same instant. */
let lastFormatted: { seconds: number; text: string } | undefined;
function formatted(seconds: number): string {
  if (lastFormatted?.seconds !== seconds) lastFormatted = { seconds, text: formatDateTime(seconds) };
  return lastFormatted.text;
}
