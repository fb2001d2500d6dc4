/**
 * The subgraph schema: the SDL files under schema/ plus the resolvers, built with
 * buildSubgraphSchema so rungraph is an Apollo Federation v2 subgraph (`_service`, `_entities`).
 *
 * The SDL files are split by domain, each adding its root fields with `extend type Query`. The
 * parsed files are folded into one `type Query` (and one `type Mutation`) before the subgraph is
 * built, so `_service { sdl }` holds each root type once: composers that read every extension
 * block as a type of its own (Mesh Compose turned each into `type Query @extends` and kept only
 * the last) see the same root fields as Apollo's composition does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  Kind,
  parse,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';
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

/** How rungraph's subgraph schema is shaped for its supergraph (config `server.federation`). */
export interface SubgraphOptions {
  /**
   * `Query.node` (default true). False leaves it out, for a supergraph where another subgraph owns
   * `Query.node`; `run`, `project` and `host` still look rungraph's objects up by the same IDs.
   */
  node?: boolean;
}

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/**
 * One definition per object type: every `extend type X` is merged into `type X` of the same
 * document (fields, interfaces and directives in file order, at the place of the first part).
 * Root types are folded even when the document only extends them. An extension of a type the
 * document does not define (a Federation 1 style entity extension) is left as it is.
 */
export function foldTypeExtensions(document: DocumentNode): DocumentNode {
  const groups = new Map<string, ObjectNode[]>();
  for (const def of document.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const group = groups.get(def.name.value);
    if (group) group.push(def);
    else groups.set(def.name.value, [def]);
  }
  const definitions: DefinitionNode[] = [];
  for (const def of document.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) {
      definitions.push(def);
      continue;
    }
    const group = groups.get(def.name.value)!;
    const defined = group.some((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION);
    if (!defined && !ROOT_TYPES.has(def.name.value)) {
      definitions.push(def);
      continue;
    }
    if (group.length === 1 && defined) {
      definitions.push(def);
      continue;
    }
    if (group[0] !== def) continue;
    const base = group.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION);
    const folded: ObjectTypeDefinitionNode = {
      kind: Kind.OBJECT_TYPE_DEFINITION,
      name: def.name,
      ...(base?.description ? { description: base.description } : {}),
      interfaces: group.flatMap((d) => d.interfaces ?? []),
      directives: group.flatMap((d) => d.directives ?? []),
      fields: group.flatMap((d) => d.fields ?? []),
    };
    definitions.push(folded);
  }
  return { kind: Kind.DOCUMENT, definitions };
}

/** The type definitions the subgraph is built from: schema/ folded, shaped by the options. */
export function subgraphTypeDefs(options: SubgraphOptions = {}, dir = SCHEMA_DIR): DocumentNode {
  const folded = foldTypeExtensions(parse(loadTypeDefs(dir)));
  if (options.node !== false) return folded;
  return {
    ...folded,
    definitions: folded.definitions.map((def) =>
      def.kind === Kind.OBJECT_TYPE_DEFINITION && def.name.value === 'Query' ? { ...def, fields: def.fields?.filter((f) => f.name.value !== 'node') } : def,
    ),
  };
}

export function buildSchema(options: SubgraphOptions = {}): GraphQLSchema {
  const { Query, ...rest } = resolvers as Record<string, Record<string, unknown>>;
  const query = options.node === false ? Object.fromEntries(Object.entries(Query ?? {}).filter(([name]) => name !== 'node')) : Query;
  return buildSubgraphSchema({ typeDefs: subgraphTypeDefs(options), resolvers: { ...rest, Query: query } as never });
}
