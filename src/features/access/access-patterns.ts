/** The mask in a credential-username filter that stands for the requesting user's own username. */
export const USERNAME_MASK = '{user.username}';

const STAR = -1;
const ANY = -2;
const MASK = -3;

/** A name pattern compiled once: `*` any run, `?` one character, the mask the caller's username; case-insensitive. */
export interface CompiledPattern {
  /** The lower-cased literal when the pattern has no wildcard and no mask (a plain comparison). */
  exact: string | null;
  /** Character codes, with STAR, ANY and MASK as negative markers. */
  tokens: readonly number[];
  hasMask: boolean;
}

/** Why a pattern is refused, or null: the mask is allowed only where `allowMask` says, and no other `{...}` placeholder exists. */
export function patternProblem(pattern: string, allowMask: boolean): string | null {
  const rest = pattern.split(USERNAME_MASK);
  if (rest.length > 1 && !allowMask) return `The ${USERNAME_MASK} mask is allowed only in credentialUsernames.`;
  if (allowMask && rest.some((part) => part.includes('{') || part.includes('}'))) return `The only mask is ${USERNAME_MASK}; remove other { } placeholders.`;
  return null;
}

/** Compiles a pattern once (policies are compiled when loaded, never per decision). */
export function compilePattern(pattern: string, allowMask: boolean): CompiledPattern {
  const tokens: number[] = [];
  const parts = allowMask ? pattern.toLowerCase().split(USERNAME_MASK) : [pattern.toLowerCase()];
  parts.forEach((part, i) => {
    if (i > 0) tokens.push(MASK);
    for (let c = 0; c < part.length; c += 1) {
      const code = part.charCodeAt(c);
      const token = code === 42 ? STAR : code === 63 ? ANY : code;
      // Consecutive stars match the same as one and would only add backtracking.
      if (token === STAR && tokens[tokens.length - 1] === STAR) continue;
      tokens.push(token);
    }
  });
  const plain = tokens.every((t) => t >= 0);
  return { exact: plain ? pattern.toLowerCase() : null, tokens, hasMask: tokens.includes(MASK) };
}

/** The mask replaced by the (lower-case) username as literal characters: a `*` in a username is never a wildcard. */
function expandMask(tokens: readonly number[], username: string): number[] {
  const out: number[] = [];
  for (const token of tokens) {
    if (token !== MASK) out.push(token);
    else for (let c = 0; c < username.length; c += 1) out.push(username.charCodeAt(c));
  }
  return out;
}

/**
 * Whether a lower-cased text matches: iterative matching that backtracks only to the last star, so a hostile
 * pattern costs at most length(pattern) x length(text) steps (no regular expression, no catastrophic backtracking).
 */
export function matchPattern(pattern: CompiledPattern, text: string, username: string): boolean {
  if (pattern.exact !== null) return pattern.exact === text;
  const p = pattern.hasMask ? expandMask(pattern.tokens, username) : pattern.tokens;
  let pi = 0;
  let si = 0;
  let starAt = -1;
  let starText = 0;
  while (si < text.length) {
    const token = p[pi];
    if (token !== undefined && (token === ANY || token === text.charCodeAt(si))) {
      pi += 1;
      si += 1;
    } else if (token === STAR) {
      starAt = pi;
      pi += 1;
      starText = si;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      starText += 1;
      si = starText;
    } else {
      return false;
    }
  }
  while (p[pi] === STAR) pi += 1;
  return pi === p.length;
}

/**
 * The pattern as a SQL LIKE pattern over lower-cased text (escape character `\`), the mask replaced by the
 * lower-cased username as literal characters; `*` becomes `%`, `?` becomes `_`. It agrees with matchPattern on
 * ASCII text only: a caller must treat non-ASCII patterns and texts some other way.
 */
export function likePattern(pattern: CompiledPattern, username: string): string {
  const literal = (code: number) => {
    const c = String.fromCharCode(code);
    return c === '%' || c === '_' || c === '\\' ? `\\${c}` : c;
  };
  let out = '';
  for (const token of pattern.tokens) {
    if (token === STAR) out += '%';
    else if (token === ANY) out += '_';
    else if (token === MASK) for (let c = 0; c < username.length; c += 1) out += literal(username.charCodeAt(c));
    else out += literal(token);
  }
  return out;
}
