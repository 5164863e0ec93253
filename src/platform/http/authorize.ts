import type { Actor } from '../actor.js';
import { forbidden } from '../errors.js';
import type { HttpApp } from './create-app.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a route requires (a list: any one of them); routes without one are self-service for any authenticated caller. */
    permission?: string | readonly string[];
  }
}

/** Answers whether an actor holds a permission (identity knows roles; the platform knows only names). */
export type PermissionCheck = (actor: Actor, permission: string) => boolean | Promise<boolean>;

/** The one guard: every route of the scope that names a permission is refused with 403 FORBIDDEN without it. */
export function requirePermissions(scope: HttpApp, allowed: PermissionCheck): void {
  // onRequest, after authentication and before the body is read: a caller without the permission learns nothing more.
  // A callback hook: routes without a permission (me, logout) pass without allocating a promise.
  scope.addHook('onRequest', (request, _reply, done) => {
    const permission = request.routeOptions.config.permission;
    if (!permission || !request.actor) return done();
    const actor = request.actor;
    // A list lets a route serve callers of different standing; the route's service decides what each one sees.
    const check = typeof permission === 'string' ? Promise.resolve(allowed(actor, permission)) : Promise.all(permission.map((p) => allowed(actor, p))).then((oks) => oks.some(Boolean));
    const refusal = () => forbidden('FORBIDDEN', `This needs ${typeof permission === 'string' ? `the permission ${permission}` : `one of the permissions ${permission.join(', ')}`}, which your roles do not grant. Ask a tenant administrator.`);
    check.then((ok) => done(ok ? undefined : refusal()), done);
  });
}
