/**
 * Request limits as GraphQL validation rules: a query too deep or with too many aliases is
 * refused before anything runs (HTTP 400), with a message that names the limit and its value.
 * Introspection fields (`__schema`, `__type`) are not counted: the explorer's own introspection
 * query is deep by nature and costs no upstream call.
 */
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

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
