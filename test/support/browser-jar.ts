/** A cookie jar for one origin: name -> value, updated from Set-Cookie headers (Max-Age=0 deletes). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** Takes every Set-Cookie header of a response. */
  take(setCookie: string | string[] | undefined | null): void {
    const list = setCookie === undefined || setCookie === null ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
    for (const line of list) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** The Cookie request header, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The fields of the first HTML form on a page: its action and its inputs' names and values. */
export function firstForm(html: string): { action: string; fields: Record<string, string> } | null {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const action = /action="([^"]*)"/i.exec(form[1]!)?.[1]?.replace(/&amp;/g, '&') ?? '';
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input\b([^>]*)>/gi)) {
    const name = /name="([^"]*)"/i.exec(input[1]!)?.[1];
    if (name) fields[name] = /value="([^"]*)"/i.exec(input[1]!)?.[1] ?? '';
  }
  return { action, fields };
}

/**
 * Plays a browser at the identity provider: follows redirects and submits its login and consent forms
 * (logging in as `login`) until the IdP redirects to a URL starting with `stopAt`, which it answers.
 */
export async function signInAtIdp(authorizationUrl: string, login: string, stopAt: string, jar = new CookieJar()): Promise<URL> {
  let url = authorizationUrl;
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(stopAt)) return new URL(url);
    const headers = new Headers(init.headers);
    const cookie = jar.header();
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.take(res.headers.getSetCookie());
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).toString();
      init = {};
      continue;
    }
    const body = await res.text();
    const form = res.status === 200 ? firstForm(body) : null;
    if (!form) throw new Error(`the IdP answered ${res.status} without a form at ${url}: ${body.slice(0, 500)}`);
    const fields = { ...form.fields, ...('login' in form.fields ? { login, password: 'any password' } : {}) };
    url = new URL(form.action, url).toString();
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
  }
  throw new Error('the IdP never redirected back');
}
