/**
 * What an operation may cost before it runs. The depth and alias limits say nothing about size:
 * `runs(first: 100) { nodes { project { runs(first: 100) { … } } } }` is four levels deep and
 * asks for a million fields. The estimate here is an upper bound on the fields the response can
 * hold, so it multiplies list sizes down the tree:
 *
 * - every selected field costs 1 each time it can be resolved (`__typename` and introspection
 *   cost nothing: they never reach a vendor and the explorer's schema query must always pass);
 * - a field with a `first` argument sizes the lists below it (`nodes`, `edges`): its children
 *   cost `first` times over — the argument's value, its variable, or the schema's default;
 * - `_entities(representations: […])`, the federation router's batch, costs once per
 *   representation;
 * - any other list (`sources`, a connection's `answeredBy`) counts as `listSize` items — the
 *   number of configured sources, since every such list has at most one entry per source;
 * - an interface or union (`node`) costs its most expensive possible type, not the sum;
 * - `@skip`/`@include` are honoured, and each fragment is counted where it is spread.
 *
 * It needs the operation's variables, so it runs when Apollo has resolved the operation (a
 * plugin), not as a validation rule; a refusal there is HTTP 400 and nothing is executed.
 *
 * A router's merged document (several fetches sent as one, limits.ts `mergedParts`) is costed
 * fetch by fetch: each part must stay under the limit, as it would have sent alone.
 */
import {
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isInputType,
  isListType,
  isNonNullType,
  isObjectType,
  typeFromAST,
  valueFromAST,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { mergedParts } from './limits';

export interface CostOptions {
  /** Size assumed for a list that has no `first` above it and no `representations` argument. */
  listSize: number;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  listSize: number;
}

/** The estimated cost of one operation with its variables (see the file comment for the rules). */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  variables: Record<string, unknown> | undefined,
  options: CostOptions,
): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const walk: Walk = { schema, fragments, variables: withDefaults(schema, operation, variables), listSize: Math.max(1, options.listSize) };
  return selectionCost(walk, operation.selectionSet, root, undefined, new Set());
}

/** Cost of a selection set on one concrete object type. `pageSize` is the `first` of the field above. */
function selectionCost(walk: Walk, set: SelectionSetNode, type: GraphQLObjectType, pageSize: number | undefined, spreading: Set<string>): number {
  let total = 0;
  for (const selection of set.selections) {
    if (!included(walk, selection)) continue;
    if (selection.kind === Kind.FIELD) {
      total += fieldCost(walk, selection, type, pageSize, spreading);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (appliesTo(walk, selection.typeCondition?.name.value, type)) total += selectionCost(walk, selection.selectionSet, type, pageSize, spreading);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      // A fragment that spreads itself is invalid and already refused by validation; skip the loop.
      if (!fragment || spreading.has(name) || !appliesTo(walk, fragment.typeCondition.name.value, type)) continue;
      spreading.add(name);
      total += selectionCost(walk, fragment.selectionSet, type, pageSize, spreading);
      spreading.delete(name);
    }
    // Past any limit already: no need to count the rest precisely (and no risk of overflow).
    if (total > Number.MAX_SAFE_INTEGER / 1e6) return total;
  }
  return total;
}

function fieldCost(walk: Walk, node: FieldNode, parent: GraphQLObjectType, pageSize: number | undefined, spreading: Set<string>): number {
  const name = node.name.value;
  if (name.startsWith('__')) return 0;
  const field = parent.getFields()[name];
  if (!field) return 0;
  const args = argumentsOf(field, node, walk.variables);
  const items = listItems(walk, field.type, args, pageSize);
  const named = getNamedType(field.type);
  if (!node.selectionSet || !isCompositeType(named)) return 1 * items;
  const childPage = typeof args.first === 'number' ? Math.max(0, args.first) : undefined;
  return items * (1 + compositeCost(walk, node.selectionSet, named, childPage, spreading));
}

/** How many times a field's value repeats: 1, or the list's size. */
function listItems(walk: Walk, type: GraphQLOutputType, args: Record<string, unknown>, pageSize: number | undefined): number {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (!isListType(inner)) return 1;
  if (Array.isArray(args.representations)) return Math.max(1, args.representations.length);
  return pageSize ?? walk.listSize;
}

function compositeCost(walk: Walk, set: SelectionSetNode, type: GraphQLCompositeType, pageSize: number | undefined, spreading: Set<string>): number {
  if (isObjectType(type)) return selectionCost(walk, set, type, pageSize, spreading);
  let most = 0;
  for (const possible of walk.schema.getPossibleTypes(type)) most = Math.max(most, selectionCost(walk, set, possible, pageSize, spreading));
  return most;
}

function appliesTo(walk: Walk, condition: string | undefined, type: GraphQLObjectType): boolean {
  if (condition === undefined || condition === type.name) return true;
  const conditionType = walk.schema.getType(condition);
  return conditionType !== undefined && isAbstractType(conditionType) && walk.schema.isSubType(conditionType, type);
}

function included(walk: Walk, node: { directives?: readonly unknown[] } & Parameters<typeof getDirectiveValues>[1]): boolean {
  if (!node.directives?.length) return true;
  try {
    if (getDirectiveValues(GraphQLSkipDirective, node, walk.variables)?.if === true) return false;
    if (getDirectiveValues(GraphQLIncludeDirective, node, walk.variables)?.if === false) return false;
  } catch {
    // A bad directive value fails in execution with its own message; count the selection.
  }
  return true;
}

function argumentsOf(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  try {
    const values = getArgumentValues(field, node, variables);
    // `first: null` means the default (decisions.md, "Paging").
    if (values.first === null) {
      const declared = field.args.find((a) => a.name === 'first')?.defaultValue;
      return { ...values, first: declared };
    }
    return values;
  } catch {
    // A value that does not coerce is refused by execution with its own message; use the defaults.
    return Object.fromEntries(field.args.filter((a) => a.defaultValue !== undefined).map((a) => [a.name, a.defaultValue]));
  }
}

/**
 * The cost a limit judges: the operation's, or for a router's merged document the costliest of its
 * parts (`part` says which).
 */
export function judgedCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  variables: Record<string, unknown> | undefined,
  options: CostOptions,
): { cost: number; part?: number; parts?: number } {
  const parts = mergedParts(operation);
  if (!parts) return { cost: operationCost(schema, operation, fragments, variables, options) };
  let most: { cost: number; part?: number; parts?: number } = { cost: -1 };
  for (const part of parts) {
    const cost = operationCost(schema, { ...operation, selectionSet: part.selectionSet }, fragments, variables, options);
    if (cost > most.cost) most = { cost, part: part.index, parts: parts.length };
  }
  return most;
}

/** Refuses, before execution, an operation whose estimated cost is over `maxCost`. */
export function costLimitPlugin(maxCost: number, options: CostOptions): ApolloServerPlugin {
  // Apollo reuses one parsed document per query text, so the same query costs one walk per set of variables.
  const known = new WeakMap<object, Map<string, ReturnType<typeof judgedCost>>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          let byVariables = known.get(operation);
          if (!byVariables) known.set(operation, (byVariables = new Map()));
          const variablesKey = request.variables ? JSON.stringify(request.variables) : '';
          let judged = byVariables.get(variablesKey);
          if (judged === undefined) {
            const fragments = new Map<string, FragmentDefinitionNode>();
            for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
            judged = judgedCost(schema, operation, fragments, request.variables, options);
            // Bounded: a client sending ever new variables must not grow this without end.
            if (byVariables.size < 100) byVariables.set(variablesKey, judged);
          }
          const { cost, part, parts } = judged;
          if (cost > maxCost) {
            const what = part === undefined ? 'this operation' : `fetch ${part} of this merged document (one of ${parts} a router sent together)`;
            throw new GraphQLError(
              `Query cost limit exceeded: ${what} could return up to ${cost} fields; the limit (server.limits.maxCost) is ${maxCost}. ` +
                'Ask for fewer items (a smaller `first`, above all on nested lists such as Project.runs) or split the query.',
              { extensions: { code: 'BAD_USER_INPUT', limit: 'maxCost', cost, maxCost, ...(part === undefined ? {} : { part }), http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}

/** Variable values with their declared defaults, as execution will see them. */
function withDefaults(schema: GraphQLSchema, operation: OperationDefinitionNode, given: Record<string, unknown> | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = { ...given };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type);
    if (values[name] === undefined && def.defaultValue && type && isInputType(type)) values[name] = valueFromAST(def.defaultValue, type);
  }
  return values;
}
