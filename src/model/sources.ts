/**
 * The configured sources, by id. Every layer that is handed an id from outside asks here, so an
 * unknown id is reported the same way everywhere: named by the caller (a filter's `sourceIds`) it
 * is the caller's mistake; found inside a global ID it is not one of ours.
 */
import { badInput, notFound } from './errors';
import type { Source } from './source';

export class SourceSet {
  private readonly byId: ReadonlyMap<string, Source>;

  constructor(readonly all: readonly Source[]) {
    this.byId = new Map(all.map((s) => [s.info.id, s]));
  }

  /** A source named by the caller; an unknown id is BAD_USER_INPUT naming the known ones. */
  named(id: string): Source {
    const source = this.byId.get(id);
    if (!source) throw badInput(`No source with id "${id}" is configured (known: ${[...this.byId.keys()].join(', ')}).`);
    return source;
  }

  /** A source named inside a global ID: an ID of a source this gateway does not have is NOT_FOUND. */
  ofId(id: string): Source {
    const source = this.byId.get(id);
    if (!source) throw notFound(`This gateway has no source "${id}"; the ID is not one of ours.`);
    return source;
  }

  /** The sources a list asks (all when `ids` is absent), in config order. */
  select(ids: readonly string[] | null | undefined): Source[] {
    if (!ids) return [...this.all];
    const wanted = new Set(ids.map((id) => this.named(id).info.id));
    return this.all.filter((s) => wanted.has(s.info.id));
  }
}
