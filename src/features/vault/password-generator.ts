import { randomInt } from 'node:crypto';

/** The four character classes a credential policy can require. */
export const characterClasses = ['lower', 'upper', 'digit', 'symbol'] as const;
export type CharacterClass = (typeof characterClasses)[number];

/**
 * The symbols allowed when a policy names none: ones target systems rarely refuse and that need no escaping in
 * JSON, XML, SQL string literals or single-quoted shell words. Left out: quotes and backtick, backslash, space,
 * $ & | ; < > (shell), brackets and braces, comma, slash and asterisk, which scripts and connection strings mangle.
 */
export const SAFE_SYMBOLS = '!#%+-.:=?@^_~';

/** Every printable ASCII character that is neither a letter, a digit nor a space: what allowedSymbols may list. */
export const ASCII_SYMBOLS = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGIT = '0123456789';

/** The part of a credential policy that decides what a password may be. */
export interface PasswordRules {
  minLength: number;
  /** null or absent: no upper bound beyond what the credential itself accepts. */
  maxLength?: number | null;
  requireClasses: readonly CharacterClass[];
  /** The only symbols a password may contain (may be empty: no symbols at all). */
  allowedSymbols: string;
}

/** One thing wrong with a password, by the rule it breaks; the message never quotes the password. */
export interface PasswordProblem {
  rule: 'minLength' | 'maxLength' | 'requireClasses' | 'allowedCharacters';
  message: string;
}

const classNames: Record<CharacterClass, string> = { lower: 'a lower-case letter', upper: 'an upper-case letter', digit: 'a digit', symbol: 'a symbol' };

function alphabetOf(rules: PasswordRules): Record<CharacterClass, string> {
  return { lower: LOWER, upper: UPPER, digit: DIGIT, symbol: rules.allowedSymbols };
}

function classOf(char: string, symbols: string): CharacterClass | null {
  if (LOWER.includes(char)) return 'lower';
  if (UPPER.includes(char)) return 'upper';
  if (DIGIT.includes(char)) return 'digit';
  return symbols.includes(char) ? 'symbol' : null;
}

/** What is wrong with a password under the rules; an empty list means it satisfies them. */
export function checkPassword(rules: PasswordRules, secret: string): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const chars = Array.from(secret);
  if (chars.length < rules.minLength) problems.push({ rule: 'minLength', message: `must be at least ${rules.minLength} characters long` });
  if (rules.maxLength != null && chars.length > rules.maxLength) problems.push({ rule: 'maxLength', message: `must be at most ${rules.maxLength} characters long` });
  const present = new Set<CharacterClass>();
  let outside = false;
  for (const char of chars) {
    const found = classOf(char, rules.allowedSymbols);
    if (found) present.add(found);
    else outside = true;
  }
  for (const wanted of rules.requireClasses) {
    if (!present.has(wanted)) problems.push({ rule: 'requireClasses', message: `must contain ${classNames[wanted]}` });
  }
  if (outside) {
    // Names the allowed set, never the offending characters: they are part of a secret.
    const symbols = rules.allowedSymbols ? `and the symbols ${rules.allowedSymbols}` : 'and no symbols';
    problems.push({ rule: 'allowedCharacters', message: `may contain only ASCII letters, digits ${symbols}` });
  }
  return problems;
}

/** A uniformly chosen character of a string (crypto.randomInt has no modulo bias). */
const pick = (from: string) => from[randomInt(from.length)]!;

/** The fallback, when rejection keeps failing: one of each required class, the rest from the alphabet, shuffled. */
function placeAndShuffle(rules: PasswordRules, alphabet: string, length: number): string {
  const classes = alphabetOf(rules);
  const chars = rules.requireClasses.map((c) => pick(classes[c]));
  while (chars.length < length) chars.push(pick(alphabet));
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/**
 * A password of exactly minLength characters drawn from ASCII letters, digits and the allowed symbols, with
 * every required class present. Rejection sampling makes it uniform over every password the rules accept
 * (each try is uniform over the alphabet; a try missing a required class is thrown away). With at least 8
 * characters a try is accepted often (at worst, one allowed symbol required among 63 characters, about 1 in
 * 8), so the bounded fallback exists only to guarantee termination.
 */
export function generatePassword(rules: PasswordRules): string {
  const classes = alphabetOf(rules);
  for (const wanted of rules.requireClasses) {
    if (classes[wanted].length === 0) throw new Error(`password rules require ${wanted} but allow none`);
  }
  const alphabet = LOWER + UPPER + DIGIT + rules.allowedSymbols;
  const length = rules.minLength;
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    let candidate = '';
    for (let i = 0; i < length; i += 1) candidate += pick(alphabet);
    if (rules.requireClasses.every((wanted) => [...candidate].some((char) => classes[wanted].includes(char)))) return candidate;
  }
  return placeAndShuffle(rules, alphabet, length);
}
