import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** What the test IdP says about a person: the claims its ID token and userinfo carry. */
export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

/** A client registered at the test IdP (one per tenant under test). */
export interface IdpClient {
  clientId: string;
  clientSecret: string;
}

/** A real OpenID Provider (oidc-provider) listening on 127.0.0.1, with dev login and consent forms. */
export interface TestIdp {
  issuer: string;
  /** People who can sign in, by subject; change an entry between logins to change their claims. */
  accounts: Map<string, IdpAccount>;
  /** Registers a confidential client that must use PKCE (S256) and may redirect only to the given URI. */
  client(redirectUri: string): IdpClient;
  close(): Promise<void>;
}

/**
 * Starts oidc-provider on a random loopback port. Clients are added on demand (the provider reads them from
 * its adapter on each request), so one IdP serves several tenants, each with its own client.
 */
export async function startTestIdp(): Promise<TestIdp> {
  const accounts = new Map<string, IdpAccount>();
  const clients = new Map<string, Record<string, unknown>>();
  const stores = new Map<string, Map<string, { payload: Record<string, unknown>; expiresAt?: number }>>();

  // A memory adapter that also serves the clients registered by client(): the provider's own memory adapter
  // cannot be told about clients after start.
  class Adapter {
    private readonly items: Map<string, { payload: Record<string, unknown>; expiresAt?: number }>;
    constructor(private readonly model: string) {
      if (!stores.has(model)) stores.set(model, new Map());
      this.items = stores.get(model)!;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      this.items.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }
    async find(id: string) {
      if (this.model === 'Client') return clients.get(id);
      const item = this.items.get(id);
      if (!item || (item.expiresAt && item.expiresAt < Date.now())) return undefined;
      return item.payload;
    }
    async findByUserCode() {
      return undefined;
    }
    async findByUid(uid: string) {
      for (const item of this.items.values()) if (item.payload.uid === uid) return item.payload;
      return undefined;
    }
    async consume(id: string) {
      const item = this.items.get(id);
      if (item) item.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      this.items.delete(id);
    }
    async revokeByGrantId(grantId: string) {
      for (const [id, item] of this.items) if (item.payload.grantId === grantId) this.items.delete(id);
    }
  }

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    adapter: Adapter,
    // Its own signing key and lifetimes, so the provider does not warn about development defaults.
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // Put the requested claims into the ID token as well, as Okta and Entra do for groups.
    conformIdTokenClaims: false,
    findAccount: async (_ctx: unknown, sub: string) => {
      if (!accounts.has(sub)) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...accounts.get(sub) }) };
    },
  });
  // The dev interactions warn loudly on every start; they are exactly what a test IdP wants.
  provider.on('server_error', (_ctx: unknown, error: Error) => console.error('test IdP error', error));
  server.on('request', provider.callback());

  return {
    issuer,
    accounts,
    client(redirectUri: string) {
      const clientId = `custos-${randomBytes(6).toString('hex')}`;
      const clientSecret = randomBytes(24).toString('base64url');
      clients.set(clientId, { client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' });
      return { clientId, clientSecret };
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
