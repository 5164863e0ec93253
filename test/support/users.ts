import { expect } from 'vitest';
import { bearer, type TestApp } from './app.js';

/** The password test users activate with. */
export const USER_PASSWORD = 'a user password here';

/** A test's caller: a tenant slug and a session token. */
export interface Caller {
  slug: string;
  token: string;
}

/** Sends one /api/v1 request as a caller. */
export function apiCall(t: TestApp, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) {
  return t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
}

/** Creates a user through the API as an administrator, activates them and logs them in. */
export async function activeUser(t: TestApp, by: Caller, username: string, roles?: string[]) {
  const created = await apiCall(t, 'POST', '/users', by.token, { username, email: `${username}@x.example`, ...(roles ? { roles } : {}) });
  expect(created.statusCode, created.body).toBe(201);
  const { user, activation } = created.json();
  const activated = await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: by.slug, token: activation.token, password: USER_PASSWORD } });
  expect(activated.statusCode, activated.body).toBe(200);
  const session = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: by.slug, username, password: USER_PASSWORD } });
  expect(session.statusCode, session.body).toBe(200);
  return { id: user.id as string, slug: by.slug, token: session.json().token as string, username };
}
