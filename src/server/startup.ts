/**
 * A first word from every source at start. A wrong password or an unreachable `baseUrl` would
 * otherwise stay silent until the first query fails; one cheap read per source (its project list,
 * which every source has) says it in the log once, per source, without secrets. The gateway serves
 * either way: a vendor that is down now may be up by the first query.
 */
import { asGatewayError } from '../model/errors';
import type { Logger, Source } from '../model/source';
import { withCallContext } from '../http/context';
import { createScope } from '../model/scope';

const CHECK_BUDGET_MS = 30_000;

export async function checkSources(sources: readonly Source[], log: Logger): Promise<void> {
  await Promise.all(
    sources.map(async (source) => {
      const started = Date.now();
      const requestId = `startup-check-${source.info.id}`;
      try {
        const projects = await withCallContext({ requestId, deadline: started + CHECK_BUDGET_MS }, () =>
          source.listProjects(createScope({ id: requestId, log })),
        );
        log.info({ source: source.info.id, projects: projects.length, ms: Date.now() - started }, 'source answered');
      } catch (error) {
        const failure = asGatewayError(error, source.info.id);
        log.warn(
          { source: source.info.id, code: failure.code, status: failure.extensions.status, ms: Date.now() - started },
          `source ${source.info.id} (${source.info.name}) did not answer the start-up check: ${failure.message} The gateway serves anyway; queries that need this source will report the same error until it answers.`,
        );
      }
    }),
  );
}
