/**
 * Request limits as GraphQL validation rules: a query too deep or with too many aliases is
 * refused before anything runs (HTTP 400), with a message that names the limit and its value.
 * Introspection fields (`__schema`, `__type`) are not counted: the explorer's own introspection
 * query is deep by nature and costs no upstream call.
 *
 * The limits count what a client wrote, also behind a router that merges fetches. Hive Gateway
 * (graphql-tools batch-execute) sends the parallel fetches of one plan step to one subgraph as one
 * document: each fetch's root fields get the alias prefix `_v<n>_` (older releases `_<n>_`), its
 * variables and fragments the same prefix. Such a document is judged part by part, like the
 * separate fetches it replaces (see `mergedParts`), and an alias that only carries the prefix is the
 * router's, not the client's.
 */
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

/** A merged document's root alias: `_v<n>_<alias or field name>` (batch-execute 10), or `_<n>_…` (8–9). */
const PART_PREFIX = /^_v?(\d+)_(.+)$/;

/**
 * The most parts a merged document is judged by one by one. A router merges the fetches of one
 * plan step, a handful; past this many the document is judged whole, prefix aliases included, so
 * a client cannot multiply the limits by writing its own prefixes.
 */
export const MAX_MERGED_PARTS = 16;

/** One fetch of a router's merged document: its number and its root selections. */
export interface MergedPart {
  index: number;
  selectionSet: SelectionSetNode;
}

/**
 * The parts of a router's merged operation, or undefined when it is not one: every root field
 * (also inside root inline fragments, such as batch-execute's `@defer` wrappers) carries a part
 * prefix, every variable too, at least two parts and at most MAX_MERGED_PARTS.
 */
export function mergedParts(operation: OperationDefinitionNode): MergedPart[] | undefined {
  const byIndex = new Map<number, SelectionNode[]>();
  const add = (index: number, selection: SelectionNode) => {
    const list = byIndex.get(index);
    if (list) list.push(selection);
    else byIndex.set(index, [selection]);
  };
  // The part of each root selection; an inline fragment holding several parts is split by part.
  const assign = (selection: SelectionNode): Map<number, SelectionNode> | undefined => {
    if (selection.kind === Kind.FIELD) {
      const match = selection.alias && PART_PREFIX.exec(selection.alias.value);
      return match ? new Map([[Number(match[1]), selection]]) : undefined;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) return undefined;
    const inner = new Map<number, SelectionNode[]>();
    for (const child of selection.selectionSet.selections) {
      const assigned = assign(child);
      if (!assigned) return undefined;
      for (const [index, node] of assigned) inner.set(index, [...(inner.get(index) ?? []), node]);
    }
    const out = new Map<number, SelectionNode>();
    for (const [index, selections] of inner) out.set(index, { ...selection, selectionSet: { kind: Kind.SELECTION_SET, selections } } as InlineFragmentNode);
    return out;
  };
  for (const selection of operation.selectionSet.selections) {
    const assigned = assign(selection);
    if (!assigned) return undefined;
    for (const [index, node] of assigned) add(index, node);
  }
  if (byIndex.size < 2 || byIndex.size > MAX_MERGED_PARTS) return undefined;
  for (const def of operation.variableDefinitions ?? []) {
    const match = PART_PREFIX.exec(def.variable.name.value);
    if (!match || !byIndex.has(Number(match[1]))) return undefined;
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([index, selections]) => ({ index, selectionSet: { kind: Kind.SELECTION_SET, selections } }));
}

/** The one operation of a document that is a router's merge, with its parts. */
function mergedDocument(document: DocumentNode): { operation: OperationDefinitionNode; parts: MergedPart[] } | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return undefined;
  const parts = mergedParts(operations[0]!);
  return parts && { operation: operations[0]!, parts };
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  return fragments;
}

/** Aliased fields of one part: its root aliases that say more than the prefix, and every alias below. */
function partAliases(part: MergedPart, fragments: Map<string, FragmentDefinitionNode>): number {
  const seen = new Set<string>();
  const below = (set: SelectionSetNode | undefined): number => {
    let count = 0;
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) count += (selection.alias ? 1 : 0) + below(selection.selectionSet);
      else if (selection.kind === Kind.INLINE_FRAGMENT) count += below(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        // Each fragment counted once per part, as a document counts each definition once.
        seen.add(selection.name.value);
        count += below(fragments.get(selection.name.value)?.selectionSet);
      }
    }
    return count;
  };
  const root = (set: SelectionSetNode): number => {
    let count = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) count += root(selection.selectionSet);
      else if (selection.kind === Kind.FIELD) count += (clientAlias(selection) ? 1 : 0) + below(selection.selectionSet);
    }
    return count;
  };
  return root(part.selectionSet);
}

/** True when a merged root field's alias is more than the router's prefix on the field's name. */
function clientAlias(field: FieldNode): boolean {
  const match = field.alias && PART_PREFIX.exec(field.alias.value);
  return Boolean(match && match[2] !== field.name.value);
}

export function depthLimit(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

    const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let deepest = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value.startsWith('__')) continue;
          deepest = Math.max(deepest, selection.selectionSet ? 1 + depthOf(selection.selectionSet, seen) : 1);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, seen));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || seen.has(name)) continue;
          deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...seen, name])));
        }
      }
      return deepest;
    };

    // A router's merged document is as deep as its deepest part (the prefix adds no level), so
    // each fetch it merged is judged as it would be alone.
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`Query depth limit exceeded: this operation is ${depth} levels deep; the limit (server.limits.maxDepth) is ${maxDepth}.`, {
              nodes: [node],
              extensions: { code: 'BAD_USER_INPUT', limit: 'maxDepth' },
            }),
          );
        }
      },
    };
  };
}

export function aliasLimit(maxAliases: number) {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases += 1;
      },
      Document: {
        leave(node) {
          const merged = mergedDocument(node);
          if (merged) {
            const fragments = fragmentsOf(node);
            for (const part of merged.parts) {
              const count = partAliases(part, fragments);
              if (count <= maxAliases) continue;
              context.reportError(
                new GraphQLError(
                  `Alias limit exceeded: fetch ${part.index} of this merged document (one of ${merged.parts.length} a router sent together) has ${count} aliased fields; ` +
                    `the limit (server.limits.maxAliases) is ${maxAliases}.`,
                  { nodes: [node], extensions: { code: 'BAD_USER_INPUT', limit: 'maxAliases', part: part.index } },
                ),
              );
            }
            return;
          }
          if (aliases > maxAliases) {
            context.reportError(
              new GraphQLError(`Alias limit exceeded: this document has ${aliases} aliased fields; the limit (server.limits.maxAliases) is ${maxAliases}.`, {
                nodes: [node],
                extensions: { code: 'BAD_USER_INPUT', limit: 'maxAliases' },
              }),
            );
          }
        },
      },
    };
  };
}

/**
 * rungraph's schema has no subscription type. graphql-js would let `subscription { … }` through
 * validation and fail in execution with a bare error that Apollo reports as a server fault; the
 * client's mistake is refused here instead, as a validation error that says what to send.
 */
export function noSubscriptions(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (node.operation === 'subscription' && !context.getSchema().getSubscriptionType()) {
        context.reportError(
          new GraphQLError('This API has no subscriptions: send a query or a mutation (the schema lists them under Query and Mutation).', { nodes: [node] }),
        );
      }
    },
  };
}
