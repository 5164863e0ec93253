import { SCIM, scimError } from './scim-protocol.js';

/** One comparison of a filter: a canonical attribute (as the caller's table names it) equal to a value. */
export interface FilterClause {
  attribute: string;
  value: string | number | boolean | null;
}

const ATTRIBUTE = /^([A-Za-z][\w.:$-]*)(?:\[([^\]]*)\])?(?:\.([A-Za-z][\w$-]*))?/;
const VALUE = /^("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)/i;
const OPERATORS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr']);

const refuse = (message: string) => scimError('invalid', 'invalidFilter', 'SCIM_INVALID_FILTER', message);

/** Drops the core schema URN a client may put before an attribute (RFC 7644 section 3.10). */
function stripSchema(path: string): string {
  for (const urn of [SCIM.user, SCIM.group]) if (path.toLowerCase().startsWith(`${urn.toLowerCase()}:`)) return path.slice(urn.length + 1);
  return path;
}

/** A value-path condition Custos can honour on its single e-mail address: the work or the primary one. */
function emailSelector(condition: string): boolean {
  return /^\s*type\s+eq\s+"work"\s*$/i.test(condition) || /^\s*primary\s+eq\s+true\s*$/i.test(condition);
}

/** A JSON literal; true, false and null in any case (a bad escape in a string is the caller's error). */
function literalValue(raw: string): FilterClause['value'] {
  try {
    return JSON.parse(raw.startsWith('"') ? raw : raw.toLowerCase()) as FilterClause['value'];
  } catch {
    throw refuse(`The value ${raw.slice(0, 40)} is not a valid JSON string.`);
  }
}

/**
 * Parses the subset of RFC 7644 section 3.4.2.2 filters identity providers send: `attribute eq value`,
 * joined by `and`. Attribute names are case-insensitive; `allowed` maps each supported lower-case path to
 * the canonical name the caller understands. Anything else is refused with scimType invalidFilter.
 */
export function parseFilter(text: string, allowed: Readonly<Record<string, string>>): FilterClause[] {
  const clauses: FilterClause[] = [];
  let rest = text.trim();
  if (rest === '') throw refuse('The filter is empty; send for example userName eq "jane@acme.example", or leave filter out.');
  for (;;) {
    const attribute = ATTRIBUTE.exec(rest);
    if (!attribute) throw refuse(`Cannot read the filter at "${rest.slice(0, 40)}": expected an attribute name.`);
    const [matched, name = '', condition, sub] = attribute;
    let path = stripSchema(name).toLowerCase();
    if (condition !== undefined) {
      if (path !== 'emails' || !emailSelector(condition)) throw refuse(`The value filter ${name}[${condition}] is not supported; only emails[type eq "work"] and emails[primary eq true] are.`);
    }
    if (sub !== undefined) path = `${path}.${sub.toLowerCase()}`;
    const canonical = allowed[path];
    if (!canonical) throw refuse(`Filtering on ${name}${sub ? `.${sub}` : ''} is not supported; filter on one of: ${Object.values(allowed).filter((v, i, all) => all.indexOf(v) === i).join(', ')}.`);
    rest = rest.slice(matched.length);
    const operator = /^\s+(\w+)/.exec(rest);
    const op = operator?.[1]?.toLowerCase();
    if (!operator || !op || !OPERATORS.has(op)) throw refuse(`Expected an operator after ${name}, such as eq.`);
    if (op !== 'eq') throw refuse(`The operator ${op} is not supported; Custos answers equality filters (eq), joined by and.`);
    rest = rest.slice(operator[0].length).replace(/^\s+/, '');
    const literal = VALUE.exec(rest);
    if (!literal) throw refuse(`Expected a value after ${name} eq: a "quoted string", true, false, null or a number.`);
    clauses.push({ attribute: canonical, value: literalValue(literal[1]!) });
    rest = rest.slice(literal[0].length);
    if (rest.trim() === '') return clauses;
    const joiner = /^\s+(\w+)\s+/.exec(rest);
    if (!joiner || joiner[1]!.toLowerCase() !== 'and') {
      throw refuse(`Only "and" may join comparisons (found "${rest.trim().slice(0, 20)}"); or, not and parentheses are not supported.`);
    }
    if (clauses.length >= 10) throw refuse('A filter may join at most 10 comparisons.');
    rest = rest.slice(joiner[0].length);
  }
}
