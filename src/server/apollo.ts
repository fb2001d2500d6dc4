/**
 * Apollo Server as rungraph runs it: the subgraph schema, the request limits (depth, aliases,
 * cost, no subscriptions), the plugins (one concern each, plugins.ts), the one error formatter,
 * and every Apollo default that would change with NODE_ENV set explicitly.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { buildSchema } from '../graph';
import type { GraphContext } from '../graph/context';
import type { Logger } from '../model/source';
import type { ServerConfig } from './config';
import { costLimitPlugin } from './cost';
import { formatError } from './errors';
import { aliasLimit, depthLimit, noSubscriptions } from './limits';
import { operationTypePlugin, partialFailuresPlugin, syncExtensionsPlugin } from './plugins';

/**
 * `extra`: the plugins of optional parts (tracing, metrics), after rungraph's own so they see the
 * final response (the operation span counts the errors partialFailuresPlugin adds).
 */
export function createApollo(settings: ServerConfig, log: Logger, sourceCount: number, extra: ApolloServerPlugin<GraphContext>[] = []): ApolloServer<GraphContext> {
  return new ApolloServer<GraphContext>({
    schema: buildSchema(settings.federation),
    // Inline traces (ftv1) are for a federation gateway that asks for them; naming the plugin
    // keeps Apollo from announcing it on stdout.
    plugins: [
      operationTypePlugin,
      costLimitPlugin(settings.limits.maxCost, { listSize: sourceCount }),
      partialFailuresPlugin,
      syncExtensionsPlugin,
      ApolloServerPluginLandingPageDisabled(),
      // The schema has no cache hints; the default cache-control plugin would still visit every field.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTrace(),
      ...extra,
    ],
    formatError: formatError(log),
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    introspection: settings.introspection,
    validationRules: [noSubscriptions, depthLimit(settings.limits.maxDepth), aliasLimit(settings.limits.maxAliases)],
    // Apollo's own SIGTERM handler stops the server and then sends the signal again, which kills
    // the process mid-drain; the gateway's stop() below (and main.ts) owns shutdown.
    stopOnTerminationSignals: false,
  });
}
