import type { z } from 'zod';
import type { UserTable } from '../../platform/db/schema.js';
import { scimBoolean, scimError, SCIM } from './scim-protocol.js';
import { displayNameField, emailField, emailList, externalIdField, ignoredUserAttributes, usernameField, type ScimPatchInput, type ScimUserInput } from './scim.schemas.js';

/** What SCIM manages of a user, whatever the form it arrived in (resource or patch). */
export interface UserState {
  userName: string;
  email: string;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  externalId: string | null;
  active: boolean;
}

const invalidValue = (message: string) => scimError('invalid', 'invalidValue', 'SCIM_INVALID_VALUE', message);
const invalidPath = (message: string) => scimError('invalid', 'invalidPath', 'SCIM_INVALID_PATH', message);
const mutability = (message: string) => scimError('invalid', 'mutability', 'SCIM_MUTABILITY', message);

/** Checks one value against its field, naming the attribute in the refusal. */
function check<T>(field: z.ZodType<T>, value: unknown, attribute: string): T {
  const parsed = field.safeParse(value);
  if (!parsed.success) throw invalidValue(`${attribute}: ${parsed.error.issues[0]?.message ?? 'is invalid'}.`);
  return parsed.data;
}

const joinName = (given: string | null, family: string | null) => [given, family].filter(Boolean).join(' ') || null;

/** A user's SCIM state as stored. Pending and locked users count as active: only deactivation makes active false. */
export function stateOfRow(row: UserTable): UserState {
  return { userName: row.username, email: row.email, displayName: row.display_name, givenName: row.given_name ?? null, familyName: row.family_name ?? null, externalId: row.external_id ?? null, active: row.status !== 'inactive' };
}

/** The primary e-mail, else the first; a userName that is an e-mail address stands in when none is sent. */
function emailOf(emails: ScimUserInput['emails'], userName: string): string | undefined {
  const chosen = emails?.find((e) => scimBoolean(e.primary) === true) ?? emails?.find((e) => e.type === 'work') ?? emails?.[0];
  if (chosen) return chosen.value;
  return emailField.safeParse(userName).success ? userName : undefined;
}

/**
 * A POST or PUT body as a state. PUT replaces: attributes left out become empty, except active (left out keeps
 * the status, so a replace never reactivates or deactivates by omission) and the e-mail (Custos needs one).
 */
export function stateOfResource(input: ScimUserInput, current?: UserState): UserState {
  const email = emailOf(input.emails, input.userName) ?? current?.email;
  if (!email) throw invalidValue('emails: Custos needs an e-mail address; send emails with a primary value (or a userName that is an e-mail address).');
  const givenName = input.name?.givenName ?? null;
  const familyName = input.name?.familyName ?? null;
  const active = input.active === undefined ? (current?.active ?? true) : scimBoolean(input.active)!;
  return { userName: input.userName, email, displayName: input.displayName ?? input.name?.formatted ?? joinName(givenName, familyName), givenName, familyName, externalId: input.externalId ?? null, active };
}

/** A path without the core schema URN, in lower case; "emails[type eq "work"].value" keeps its filter text. */
function normalisePath(path: string): string {
  const urn = `${SCIM.user.toLowerCase()}:`;
  const lower = path.trim().toLowerCase();
  return lower.startsWith(urn) ? lower.slice(urn.length) : lower;
}

const EMAIL_VALUE_PATH = /^emails(\[\s*(type\s+eq\s+"work"|primary\s+eq\s+true)\s*\])?(\.value)?$/;
const OTHER_EMAIL_PATH = /^emails\[\s*type\s+eq\s+"[^"]*"\s*\](\.\w+)?$/;

/** Applies one add/replace/remove of one attribute path to the state (mutating it); `explicit` tracks displayName. */
function applyPath(state: UserState, op: 'add' | 'replace' | 'remove', rawPath: string, value: unknown, explicit: { displayName: boolean; formatted: boolean }) {
  const path = normalisePath(rawPath);
  const head = path.split(/[.[]/)[0]!;
  const remove = op === 'remove';
  if (path.startsWith('urn:') || ignoredUserAttributes.includes(head)) return;
  if (head === 'password') throw invalidValue('Custos does not take passwords from an identity provider; turn password sync off.');
  if (['id', 'meta', 'schemas'].includes(head)) throw mutability(`${rawPath} is read-only.`);
  switch (path) {
    case 'username':
      if (remove) throw mutability('userName is required and cannot be removed.');
      state.userName = check(usernameField, value, 'userName');
      return;
    case 'externalid':
      state.externalId = remove || value === null ? null : check(externalIdField, value, 'externalId');
      return;
    case 'displayname':
      state.displayName = remove || value === null ? null : check(displayNameField, value, 'displayName');
      explicit.displayName = true;
      return;
    case 'active': {
      const active = remove ? undefined : scimBoolean(value);
      if (active === undefined) throw invalidValue('active: must be true or false.');
      state.active = active;
      return;
    }
    case 'name.givenname':
      state.givenName = remove || value === null ? null : check(displayNameField, value, 'name.givenName');
      return;
    case 'name.familyname':
      state.familyName = remove || value === null ? null : check(displayNameField, value, 'name.familyName');
      return;
    case 'name.middlename':
    case 'name.honorificprefix':
    case 'name.honorificsuffix':
      // Accepted as a resource's name accepts them, and not kept.
      return;
    case 'name.formatted':
      if (!explicit.displayName) state.displayName = remove || value === null ? null : check(displayNameField, value, 'name.formatted');
      explicit.formatted = true;
      return;
    case 'name':
      if (remove) {
        state.givenName = null;
        state.familyName = null;
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidValue('name: send an object with givenName, familyName or formatted.');
      // A complex value replaces the sub-attributes it names and leaves the others (RFC 7644 section 3.5.2.3).
      for (const [key, sub] of Object.entries(value)) applyPath(state, op, `name.${key}`, sub, explicit);
      return;
  }
  if (head === 'emails') {
    // Custos keeps one address, the work or primary one: a change to another type's address is not kept.
    if (OTHER_EMAIL_PATH.test(path) && !EMAIL_VALUE_PATH.test(path)) return;
    if (remove) throw mutability('Custos needs an e-mail address; replace it instead of removing it.');
    if (path === 'emails' && Array.isArray(value)) {
      state.email = check(emailField, emailOf(check(emailList, value, 'emails'), ''), 'emails');
      return;
    }
    if (EMAIL_VALUE_PATH.test(path)) {
      const single = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { value?: unknown }).value : value;
      state.email = check(emailField, single, rawPath);
      return;
    }
  }
  throw invalidPath(`The path ${rawPath} is not supported for users; Custos keeps userName, externalId, displayName, name, emails and active.`);
}

/** Applies a PatchOp (RFC 7644 section 3.5.2) in order, with or without paths, and answers the new state. */
export function applyUserPatch(current: UserState, operations: ScimPatchInput['Operations']): UserState {
  const state = { ...current };
  const explicit = { displayName: false, formatted: false };
  for (const operation of operations) {
    const op = operation.op.toLowerCase() as 'add' | 'replace' | 'remove';
    if (operation.path !== undefined) {
      applyPath(state, op, operation.path, operation.value, explicit);
      continue;
    }
    if (op === 'remove') throw scimError('invalid', 'noTarget', 'SCIM_NO_TARGET', 'A remove operation needs a path naming what to remove.');
    if (typeof operation.value !== 'object' || operation.value === null || Array.isArray(operation.value)) {
      throw invalidValue(`An ${op} without a path needs an object of attributes as its value, such as {"active":false}.`);
    }
    for (const [key, value] of Object.entries(operation.value)) {
      // Okta repeats the id in path-less values; read-only attributes in such a value are skipped, not refused.
      if (['id', 'meta', 'schemas'].includes(key.toLowerCase())) continue;
      applyPath(state, op, key, value, explicit);
    }
  }
  // A display name that was only the given and family names joined follows them when they change.
  const derived = current.displayName === joinName(current.givenName, current.familyName);
  if (derived && !explicit.displayName && !explicit.formatted) state.displayName = joinName(state.givenName, state.familyName);
  return state;
}
