/**
 * Apollo Server plugins, one concern each.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GraphContext } from '../graph/context';

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
