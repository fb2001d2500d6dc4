import type { Resolvers } from '../__generated__/resolvers';

/** `nodes` is the edges' nodes, for clients that need no cursors. */
export const connectionResolvers: Resolvers = {
  RunConnection: { nodes: (connection) => connection.edges.map((e) => e.node), totalCount: (connection) => connection.totalCount() },
  ProjectConnection: { nodes: (connection) => connection.edges.map((e) => e.node) },
  HostConnection: { nodes: (connection) => connection.edges.map((e) => e.node) },
};
