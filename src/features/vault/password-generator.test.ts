import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ASCII_SYMBOLS, SAFE_SYMBOLS, characterClasses, checkPassword, generatePassword, type PasswordRules } from './password-generator.js';
import { DEFAULT_POLICY_RULES, policyRules } from './credential-policies.schemas.js';

/** Any rules the policy schema accepts (the generator is only ever handed those). */
const validRules: fc.Arbitrary<PasswordRules> = fc
  .record({
    minLength: fc.integer({ min: 8, max: 256 }),
    extra: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
    requireClasses: fc.subarray([...characterClasses]),
    symbols: fc.subarray([...ASCII_SYMBOLS]),
  })
  .filter((r) => !r.requireClasses.includes('symbol') || r.symbols.length > 0)
  .map((r) => policyRules.parse({ minLength: r.minLength, maxLength: r.extra === null ? null : r.minLength + r.extra, requireClasses: r.requireClasses, allowedSymbols: r.symbols.join('') }));

const rules = (overrides: Partial<PasswordRules> = {}): PasswordRules => ({ minLength: 12, maxLength: null, requireClasses: ['lower', 'upper', 'digit', 'symbol'], allowedSymbols: SAFE_SYMBOLS, ...overrides });

describe('password generator', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every generated password satisfies checkPassword for the rules it was made for, at exactly minLength', () => {
    fc.assert(
      fc.property(validRules, (r) => {
        const password = generatePassword(r);
        expect(checkPassword(r, password)).toEqual([]);
        expect(password).toHaveLength(r.minLength);
        const alphabet = `abcdefghijklmnopqrstuvwxyz${'abcdefghijklmnopqrstuvwxyz'.toUpperCase()}0123456789${r.allowedSymbols}`;
        expect([...password].every((char) => alphabet.includes(char))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a required class with a single allowed symbol is still always present', () => {
    const r = rules({ minLength: 8, requireClasses: ['symbol'], allowedSymbols: '~' });
    for (let i = 0; i < 200; i += 1) expect(generatePassword(r)).toContain('~');
  });

  it('no symbol appears when allowedSymbols is empty', () => {
    const r = rules({ minLength: 64, requireClasses: ['lower', 'digit'], allowedSymbols: '' });
    for (let i = 0; i < 50; i += 1) expect(generatePassword(r)).toMatch(/^[a-zA-Z0-9]{64}$/);
  });

  it('uses crypto randomness only, never Math.random', () => {
    const spy = vi.spyOn(Math, 'random');
    generatePassword(DEFAULT_POLICY_RULES);
    expect(spy).not.toHaveBeenCalled();
  });

  it('chooses characters uniformly: a chi-square test over 16,000 characters stays far from bias', () => {
    const r = rules({ minLength: 8, requireClasses: [], allowedSymbols: '' });
    const counts = new Map<string, number>();
    const n = 2000;
    for (let i = 0; i < n; i += 1) for (const char of generatePassword(r)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (n * 8) / 62;
    const chiSquare = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 61 degrees of freedom: mean 61, standard deviation 11; 150 is beyond 1 in 10^9 for a fair generator.
    expect(chiSquare).toBeLessThan(150);
  });

  it('two passwords are never the same (no fixed seed)', () => {
    const seen = new Set(Array.from({ length: 500 }, () => generatePassword(DEFAULT_POLICY_RULES)));
    expect(seen.size).toBe(500);
  });

  it('refuses rules that require symbols while allowing none (the schema never lets them through)', () => {
    expect(() => generatePassword(rules({ requireClasses: ['symbol'], allowedSymbols: '' }))).toThrow(/require symbol/);
  });
});

describe('checkPassword', () => {
  it('accepts a password that follows every rule', () => {
    expect(checkPassword(rules(), 'Abcdefgh123!')).toEqual([]);
  });

  it('names each broken rule: too short, missing classes', () => {
    expect(checkPassword(rules(), 'abc')).toEqual([
      { rule: 'minLength', message: 'must be at least 12 characters long' },
      { rule: 'requireClasses', message: 'must contain an upper-case letter' },
      { rule: 'requireClasses', message: 'must contain a digit' },
      { rule: 'requireClasses', message: 'must contain a symbol' },
    ]);
  });

  it('refuses a password longer than maxLength, and none is long when maxLength is null', () => {
    expect(checkPassword(rules({ maxLength: 14 }), 'Abcdefgh123!xyz').map((p) => p.rule)).toEqual(['maxLength']);
    expect(checkPassword(rules({ maxLength: null }), `Aa1!${'x'.repeat(1000)}`)).toEqual([]);
  });

  it('refuses characters outside ASCII letters, digits and the allowed symbols, without quoting them', () => {
    for (const password of ['Abcdefgh123! space', 'Abcdefgh123!é', 'Abcdefgh123!$', 'Abcdefgh123!"']) {
      const problems = checkPassword(rules(), password);
      expect(problems.map((p) => p.rule), password).toEqual(['allowedCharacters']);
      expect(problems[0]!.message).toBe(`may contain only ASCII letters, digits and the symbols ${SAFE_SYMBOLS}`);
    }
    expect(checkPassword(rules({ allowedSymbols: '', requireClasses: [] }), 'abcdefghijkl!')[0]!.message).toBe('may contain only ASCII letters, digits and no symbols');
  });

  it('counts length in characters, not UTF-16 units', () => {
    expect(checkPassword(rules({ minLength: 8, requireClasses: [] }), '😀😀😀😀').map((p) => p.rule)).toEqual(['minLength', 'allowedCharacters']);
  });

  it('a symbol not in allowedSymbols does not count as the required symbol', () => {
    expect(checkPassword(rules({ allowedSymbols: '!' }), 'Abcdefgh1234#').map((p) => p.message)).toEqual(['must contain a symbol', 'may contain only ASCII letters, digits and the symbols !']);
  });
});
