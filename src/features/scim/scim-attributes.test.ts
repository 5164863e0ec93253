import { describe, expect, it } from 'vitest';
import { DomainError } from '../../platform/errors.js';
import { parseFilter } from './scim-filter.js';
import { applyGroupPatch } from './scim-group-attributes.js';
import { applyUserPatch, stateOfResource, type UserState } from './scim-user-attributes.js';
import { scimUserBody } from './scim.schemas.js';

const users = { username: 'userName', externalid: 'externalId', 'emails.value': 'emails' };
const scimTypeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof DomainError ? error.details?.scimType : 'not a DomainError';
  }
  return 'no error';
};

describe('SCIM filters', () => {
  it('reads eq comparisons joined by and, attribute names and operators in any case, JSON string escapes', () => {
    expect(parseFilter('userName eq "a\\"b"', users)).toEqual([{ attribute: 'userName', value: 'a"b' }]);
    expect(parseFilter('  UserName EQ "x"  AND externalId eq "7" ', users)).toEqual([{ attribute: 'userName', value: 'x' }, { attribute: 'externalId', value: '7' }]);
    expect(parseFilter('emails[primary eq true].value eq "e@x.example"', users)).toEqual([{ attribute: 'emails', value: 'e@x.example' }]);
    expect(parseFilter('externalId eq TRUE', users)).toEqual([{ attribute: 'externalId', value: true }]);
  });

  it('refuses what it cannot answer with invalidFilter', () => {
    for (const filter of ['', 'userName', 'userName eq "unterminated', 'userName ne "x"', 'userName eq "x" or externalId eq "y"', 'not (userName eq "x")', 'displayName eq "x"', 'userName eq "\\q"', 'userName eq x']) {
      expect(scimTypeOf(() => parseFilter(filter, users)), filter).toBe('invalidFilter');
    }
    const many = Array.from({ length: 11 }, (_, i) => `userName eq "${i}"`).join(' and ');
    expect(scimTypeOf(() => parseFilter(many, users))).toBe('invalidFilter');
  });
});

describe('SCIM user attributes', () => {
  const base: UserState = { userName: 'jane', email: 'jane@x.example', displayName: 'Jane Doe', givenName: 'Jane', familyName: 'Doe', externalId: null, active: true };

  it('a resource without a display name takes name.formatted, else the joined name parts; an e-mail userName stands in for emails', () => {
    const parse = (body: object) => stateOfResource(scimUserBody.parse(body));
    expect(parse({ userName: 'A@x.example', name: { formatted: 'Formatted', givenName: 'G' } })).toMatchObject({ userName: 'a@x.example', email: 'a@x.example', displayName: 'Formatted', givenName: 'G', familyName: null, active: true });
    expect(parse({ userName: 'b@x.example', name: { givenName: 'G', familyName: 'F' }, active: 'False' })).toMatchObject({ displayName: 'G F', active: false });
    expect(scimTypeOf(() => parse({ userName: 'plain' }))).toBe('invalidValue');
  });

  it('applies operations in order; a derived display name follows the name parts, an explicit one does not', () => {
    expect(applyUserPatch(base, [{ op: 'replace', path: 'name.givenName', value: 'Janet' }]).displayName).toBe('Janet Doe');
    expect(applyUserPatch({ ...base, displayName: 'JD' }, [{ op: 'replace', path: 'name.givenName', value: 'Janet' }]).displayName).toBe('JD');
    expect(applyUserPatch(base, [{ op: 'replace', path: 'displayName', value: 'X' }, { op: 'replace', path: 'name.formatted', value: 'Y' }]).displayName).toBe('X');
    expect(applyUserPatch(base, [{ op: 'replace', value: { active: 'false' } }, { op: 'Replace', path: 'active', value: 'True' }]).active).toBe(true);
    expect(applyUserPatch(base, [{ op: 'add', path: 'emails', value: [{ value: 'other@x.example' }, { value: 'main@x.example', primary: true }] }]).email).toBe('main@x.example');
    expect(applyUserPatch(base, [{ op: 'add', path: 'phoneNumbers[type eq "work"].value', value: '+1' }])).toEqual(base);
    expect(applyUserPatch(base, [{ op: 'replace', path: 'emails[type eq "home"].value', value: 'home@x.example' }, { op: 'remove', path: 'emails[type eq "home"]' }])).toEqual(base);
    expect(applyUserPatch(base, [{ op: 'replace', path: 'name', value: { middleName: 'Q', honorificPrefix: 'Dr' } }])).toEqual(base);
  });

  it('refuses malformed values with invalidValue, not a failure of the server', () => {
    expect(scimTypeOf(() => applyUserPatch(base, [{ op: 'replace', path: 'emails', value: [null] }]))).toBe('invalidValue');
    expect(scimTypeOf(() => applyUserPatch(base, [{ op: 'replace', path: 'name', value: 'Jane' }]))).toBe('invalidValue');
    expect(scimTypeOf(() => applyUserPatch(base, [{ op: 'replace', value: [1] }]))).toBe('invalidValue');
    expect(scimTypeOf(() => applyUserPatch(base, [{ op: 'replace', path: 'userName', value: 42 }]))).toBe('invalidValue');
    expect(scimTypeOf(() => applyUserPatch(base, [{ op: 'replace', path: 'id', value: 'x' }]))).toBe('mutability');
  });

  it('never changes the state it was given', () => {
    const copy = { ...base };
    applyUserPatch(base, [{ op: 'replace', path: 'userName', value: 'other' }]);
    expect(base).toEqual(copy);
  });
});

describe('SCIM group attributes', () => {
  const base = { displayName: 'G', externalId: null, members: ['a', 'b'] };

  it('adds without duplicates, removes by value list or filter, replaces the whole list', () => {
    expect(applyGroupPatch(base, [{ op: 'add', path: 'members', value: [{ value: 'b' }, { value: 'c' }] }]).members).toEqual(['a', 'b', 'c']);
    expect(applyGroupPatch(base, [{ op: 'remove', path: 'members[value eq "a"]' }]).members).toEqual(['b']);
    expect(applyGroupPatch(base, [{ op: 'remove', path: 'members', value: [{ value: 'b' }, { value: 'zzz' }] }]).members).toEqual(['a']);
    expect(applyGroupPatch(base, [{ op: 'replace', value: { members: [{ value: 'z' }] } }]).members).toEqual(['z']);
    expect(applyGroupPatch(base, [{ op: 'add', path: 'members', value: { value: 'solo' } }]).members).toEqual(['a', 'b', 'solo']);
    expect(base.members).toEqual(['a', 'b']);
  });

  it('refuses what it does not keep', () => {
    expect(scimTypeOf(() => applyGroupPatch(base, [{ op: 'replace', path: 'members[value eq "a"]', value: [] }]))).toBe('invalidPath');
    expect(scimTypeOf(() => applyGroupPatch(base, [{ op: 'replace', path: 'displayName', value: '' }]))).toBe('invalidValue');
    expect(scimTypeOf(() => applyGroupPatch(base, [{ op: 'remove' }]))).toBe('noTarget');
  });
});

describe('SCIM patches of any shape', () => {
  // A seeded generator (fast-check is not a dependency yet): the same 1000 cases on every run.
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const value = (depth = 0): unknown =>
    pick([null, true, 'False', 0, -1.5, '', 'x@y.example', 'a'.repeat(400), '__proto__', depth < 2 ? [value(depth + 1), value(depth + 1)] : [], depth < 2 ? { value: value(depth + 1), active: value(depth + 1), displayName: value(depth + 1), members: value(depth + 1), 'name.givenName': value(depth + 1) } : {}]);
  const paths = [undefined, 'active', 'userName', 'emails', 'emails[type eq "work"].value', 'name', 'name.givenName', 'displayName', 'members', 'members[value eq "a"]', 'externalId', 'urn:x:y', 'nope', ''];

  it('either apply or refuse with a SCIM error (kind invalid); never fail otherwise', () => {
    const user: UserState = { userName: 'u', email: 'u@x.example', displayName: null, givenName: null, familyName: null, externalId: null, active: true };
    for (let run = 0; run < 1000; run++) {
      const operations = Array.from({ length: 1 + Math.floor(next() * 3) }, () => ({ op: pick(['add', 'replace', 'remove', 'Replace']), path: pick(paths), value: value() }));
      for (const apply of [() => applyUserPatch(user, operations), () => applyGroupPatch({ displayName: 'G', externalId: null, members: ['a'] }, operations)]) {
        try {
          apply();
        } catch (error) {
          expect(error, JSON.stringify(operations)).toBeInstanceOf(DomainError);
          expect((error as DomainError).kind).toBe('invalid');
        }
      }
    }
  });
});
