/**
 * Global IDs: base64url of `[type, sourceId, ...vendorKey]` as JSON. They carry everything needed
 * to fetch the object again without a lookup (decisions.md): the source, the type and the vendor
 * key parts the source put into the record (e.g. a TestRail plan run's plan id). Clients must treat
 * them as opaque; only this module reads them.
 */
import { badInput } from '../model/errors';
import type { Key } from '../model/types';

export const NODE_TYPES = ['Run', 'Project', 'Host'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface GlobalId {
  type: NodeType;
  sourceId: string;
  key: Key;
}

export function encodeId(type: NodeType, sourceId: string, key: Key): string {
  return Buffer.from(JSON.stringify([type, sourceId, ...key]), 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]{1,2000}$/;

/** Decodes an ID; garbage, or an ID of a type the caller did not ask for, is BAD_USER_INPUT. */
export function decodeId(id: string, expected: readonly NodeType[] = NODE_TYPES): GlobalId {
  const parts = BASE64URL.test(id) ? parseParts(Buffer.from(id, 'base64url').toString('utf8')) : undefined;
  if (!parts) throw badInput(`"${truncate(id)}" is not a rungraph ID.`);
  const [type, sourceId, ...key] = parts;
  if (!(NODE_TYPES as readonly string[]).includes(type)) throw badInput(`"${truncate(id)}" is not a rungraph ID.`);
  if (!expected.includes(type as NodeType)) {
    throw badInput(`The ID "${truncate(id)}" is a ${type} ID; a ${expected.join(' or ')} ID is needed here.`);
  }
  return { type: type as NodeType, sourceId, key };
}

function parseParts(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value.length < 3 || value.length > 8) return undefined;
    if (!value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 200)) return undefined;
    return value as string[];
  } catch {
    return undefined;
  }
}

const truncate = (s: string) => (s.length > 80 ? `${s.slice(0, 77)}...` : s);
