/**
 * Reading vendor JSON at the boundary. Vendor payloads are untrusted: a field of the wrong type
 * must become UPSTREAM_ERROR naming the field, never a crash and never a silently wrong value.
 * Each reader takes the object, the field and a description of where it came from.
 */
import { badInput, ErrorCode, GatewayError } from '../model/errors';
import type { Key } from '../model/types';

export type Json = Record<string, unknown>;

export class PayloadError extends GatewayError {
  constructor(where: string, problem: string) {
    super(ErrorCode.UPSTREAM_ERROR, `Unexpected vendor payload: ${where} ${problem}.`);
  }
}

export function object(value: unknown, where: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PayloadError(where, 'is not an object');
  return value as Json;
}

export function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new PayloadError(where, 'is not a list');
  return value;
}

export function int(o: Json, field: string, where: string): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new PayloadError(`${where}.${field}`, 'is not an integer');
  return v;
}

export function optInt(o: Json, field: string, where: string): number | null {
  const v = o[field];
  if (v === null || v === undefined) return null;
  return int(o, field, where);
}

/** Counters: absent or null is 0 (older servers lack newer counters); anything else must be a count. */
export function count(o: Json, field: string, where: string): number {
  const v = o[field];
  if (v === null || v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new PayloadError(`${where}.${field}`, 'is not a count');
  return v;
}

export function str(o: Json, field: string, where: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new PayloadError(`${where}.${field}`, 'is not a string');
  return v;
}

export function optStr(o: Json, field: string, where: string): string | null {
  const v = o[field];
  if (v === null || v === undefined) return null;
  return str(o, field, where);
}

export function bool(o: Json, field: string, where: string): boolean {
  const v = o[field];
  // Some vendors send 0/1 for booleans (TestRail Cloud does for a few fields).
  if (v === 0 || v === 1) return v === 1;
  if (typeof v !== 'boolean') throw new PayloadError(`${where}.${field}`, 'is not a boolean');
  return v;
}

/** An id that may arrive as a number or as a numeric string; returned as text. */
export function idText(o: Json, field: string, where: string): string {
  const v = o[field];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'string' && v.length > 0 && v.length <= 200) return v;
  throw new PayloadError(`${where}.${field}`, 'is not an id');
}

const DIGITS = /^\d{1,15}$/;

/** A numeric vendor id taken from a global ID's key; anything else was never one of ours. */
export function numericKey(vendor: string, value: string | undefined, what: string, source: string): number {
  if (value === undefined || !DIGITS.test(value)) throw badInput(`Not a ${vendor} ${what} id: ${value}.`, source);
  return Number(value);
}

/** A numeric vendor id given in mutation input, checked before anything is sent. */
export function numericInput(vendor: string, value: string, field: string, source: string): number {
  if (!DIGITS.test(value)) throw badInput(`${field} must be a ${vendor} id (digits), got "${value}".`, source);
  return Number(value);
}

/** A key whose numeric parts are written as the vendor writes ids, without leading zeros (Source.canonicalKey). */
export function canonicalDigits(key: Key): Key {
  return key.map((part) => (DIGITS.test(part) ? String(Number(part)) : part));
}
