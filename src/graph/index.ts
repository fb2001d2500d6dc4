/**
 * The subgraph schema: the SDL files under schema/ plus the resolvers, built with
 * buildSubgraphSchema so rungraph is an Apollo Federation v2 subgraph (`_service`, `_entities`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import type { Resolvers } from './__generated__/resolvers';
import { connectionResolvers } from './resolvers/connection';
import { hostResolvers } from './resolvers/host';
import { mutationResolvers } from './resolvers/mutation';
import { nodeResolvers } from './resolvers/node';
import { projectResolvers } from './resolvers/project';
import { runResolvers } from './resolvers/run';
import { runOptionResolvers } from './resolvers/run-options';
import { DateTimeScalar } from './scalars';

/** schema/ sits at the package root, next to both src/ (tests) and dist/ (npm start). */
export const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');

export function loadTypeDefs(dir = SCHEMA_DIR): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

function merge(...parts: Resolvers[]): Resolvers {
  const out: Record<string, Record<string, unknown>> = {};
  for (const part of parts) {
    for (const [type, fields] of Object.entries(part)) out[type] = { ...out[type], ...(fields as object) };
  }
  return out as Resolvers;
}

export const resolvers: Resolvers = merge(
  { DateTime: DateTimeScalar },
  nodeResolvers,
  runResolvers,
  projectResolvers,
  hostResolvers,
  mutationResolvers,
  connectionResolvers,
  runOptionResolvers,
);

export function buildSchema(): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(loadTypeDefs()), resolvers: resolvers as never });
}
