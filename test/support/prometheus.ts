/**
 * A small reader of the Prometheus text exposition format (version 0.0.4), enough for tests to
 * assert what a scrape says: samples with their labels and values, and each family's TYPE.
 * prom-client writes this format but has no reader for it.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** Family name → counter, gauge, histogram, summary or untyped. */
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;

export function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1], type[2]);
      else if (!line.startsWith('# HELP ')) throw new Error(`not a comment the format knows: ${line}`);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    samples.push({ name: match[1], labels: match[3] ? parseLabels(match[3], line) : {}, value: parseValue(match[4], line) });
  }
  return { samples, types };
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!name || text[i + name[0].length] !== '=' || text[i + name[0].length + 1] !== '"') throw new Error(`bad labels in: ${line}`);
    i += name[0].length + 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      i += 1;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i];
        i += 1;
        value += next === 'n' ? '\n' : next;
      } else value += c;
    }
    if (name[0] in labels) throw new Error(`label ${name[0]} twice in: ${line}`);
    labels[name[0]] = value;
    if (text[i] === ',') i += 1;
    else if (i < text.length) throw new Error(`bad labels in: ${line}`);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  // As Prometheus reads values (Go's ParseFloat): special values in any case; prom-client writes NaN as "Nan".
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error(`bad value in: ${line}`);
  return n;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sum(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return select(scrape, name, labels).reduce((total, s) => total + s.value, 0);
}

export function select(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
