import fastJson from 'fast-json-stringify';
import { z } from 'zod';

/**
 * Serialises responses from each route's zod schema, converted once to JSON Schema and compiled by
 * fast-json-stringify. Only properties the schema names are written, so a response schema stays an allowlist
 * (a hash or key on the result object never leaves); it costs a fraction of parsing with zod per response.
 */
export function compileResponseSerializer({ schema }: { schema: unknown }): (data: unknown) => string {
  const jsonSchema = z.toJSONSchema(schema as z.ZodType, { io: 'output', target: 'draft-7', unrepresentable: 'any' });
  return fastJson(jsonSchema as Parameters<typeof fastJson>[0]);
}
