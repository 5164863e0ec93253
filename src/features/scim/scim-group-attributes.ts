import { z } from 'zod';
import { scimError, SCIM } from './scim-protocol.js';
import { displayNameField, externalIdField, memberEntry, type ScimGroupInput, type ScimPatchInput } from './scim.schemas.js';

/** What SCIM manages of a group: its name, the identity provider's id and the member user ids. */
export interface GroupState {
  displayName: string;
  externalId: string | null;
  members: string[];
}

const invalidValue = (message: string) => scimError('invalid', 'invalidValue', 'SCIM_INVALID_VALUE', message);
const invalidPath = (message: string) => scimError('invalid', 'invalidPath', 'SCIM_INVALID_PATH', message);
const memberList = z.array(memberEntry).max(10_000);

/** A POST or PUT body as a state (members deduplicated, in the order sent). */
export function stateOfGroupResource(input: ScimGroupInput): GroupState {
  return { displayName: input.displayName, externalId: input.externalId ?? null, members: [...new Set((input.members ?? []).map((m) => m.value))] };
}

/** The member ids of a value: an array of {value}, or one such object (some clients send it bare). */
function memberIdsOf(value: unknown): string[] {
  const parsed = memberList.safeParse(Array.isArray(value) ? value : [value]);
  if (!parsed.success) throw invalidValue('members: send an array of objects with the user id as "value", such as [{"value":"<user id>"}].');
  return parsed.data.map((m) => m.value);
}

/** `members[value eq "id"]`: the one member a remove names. */
const MEMBER_FILTER = /^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$/;

function applyPath(state: GroupState, op: 'add' | 'replace' | 'remove', rawPath: string, value: unknown) {
  const urn = `${SCIM.group.toLowerCase()}:`;
  const lower = rawPath.trim().toLowerCase();
  const path = lower.startsWith(urn) ? lower.slice(urn.length) : lower;
  if (path.startsWith('urn:')) return;
  if (path === 'displayname') {
    if (op === 'remove') throw scimError('invalid', 'mutability', 'SCIM_MUTABILITY', 'displayName is required and cannot be removed.');
    state.displayName = parse(displayNameField, value, 'displayName');
    return;
  }
  if (path === 'externalid') {
    state.externalId = op === 'remove' || value === null ? null : parse(externalIdField, value, 'externalId');
    return;
  }
  if (path === 'members') {
    if (op === 'remove') {
      // Entra ID names the members to remove in the value; no value removes every member.
      const gone = value === undefined ? new Set(state.members) : new Set(memberIdsOf(value));
      state.members = state.members.filter((id) => !gone.has(id));
    } else {
      const ids = memberIdsOf(value);
      state.members = [...new Set(op === 'replace' ? ids : [...state.members, ...ids])];
    }
    return;
  }
  const filtered = MEMBER_FILTER.exec(rawPath.trim());
  if (filtered && op === 'remove') {
    state.members = state.members.filter((id) => id !== filtered[1]);
    return;
  }
  throw invalidPath(`The path ${rawPath} is not supported for groups with ${op}; Custos keeps displayName, externalId and members (remove also takes members[value eq "<id>"]).`);
}

function parse<T>(field: z.ZodType<T>, value: unknown, attribute: string): T {
  const parsed = field.safeParse(value);
  if (!parsed.success) throw invalidValue(`${attribute}: ${parsed.error.issues[0]?.message ?? 'is invalid'}.`);
  return parsed.data;
}

/** Applies a PatchOp to a group in order, with or without paths (Okta renames with a path-less replace). */
export function applyGroupPatch(current: GroupState, operations: ScimPatchInput['Operations']): GroupState {
  const state: GroupState = { ...current, members: [...current.members] };
  for (const operation of operations) {
    const op = operation.op.toLowerCase() as 'add' | 'replace' | 'remove';
    if (operation.path !== undefined) {
      applyPath(state, op, operation.path, operation.value);
      continue;
    }
    if (op === 'remove') throw scimError('invalid', 'noTarget', 'SCIM_NO_TARGET', 'A remove operation needs a path, such as members[value eq "<user id>"].');
    if (typeof operation.value !== 'object' || operation.value === null || Array.isArray(operation.value)) {
      throw invalidValue(`An ${op} without a path needs an object of attributes as its value, such as {"displayName":"Ops"}.`);
    }
    for (const [key, value] of Object.entries(operation.value)) {
      if (['id', 'meta', 'schemas'].includes(key.toLowerCase())) continue;
      applyPath(state, op, key, value);
    }
  }
  return state;
}
