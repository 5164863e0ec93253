import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { invalid } from '../../platform/errors.js';

/** What the IdP said about the person, from the validated ID token and (for missing claims) userinfo. */
export type IdpClaims = Record<string, unknown> & { iss: string; sub: string };

const DISCOVERY_TIMEOUT_SECONDS = 5;

const isLoopbackHttp = (issuer: string) => new URL(issuer).protocol === 'http:';

/** client_secret_basic unless the IdP says it supports only client_secret_post; null when it supports neither. */
function clientAuthFor(metadata: oidc.ServerMetadata, secret: string): oidc.ClientAuth | null {
  const methods = metadata.token_endpoint_auth_methods_supported;
  if (!methods || methods.includes('client_secret_basic')) return oidc.ClientSecretBasic(secret);
  if (methods.includes('client_secret_post')) return oidc.ClientSecretPost(secret);
  return null;
}

/** Why a discovery failed, in words an administrator can act on (never a secret: discovery sends none). */
function discoveryReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  return error instanceof Error ? error.message : String(error);
}

/** The OpenID Connect relying party of each tenant, through openid-client (v6). */
export function createSsoOidc() {
  // Built clients by tenant; openid-client keeps each one's JWKS cache, so they are reused until settings change.
  const configurations = new Map<string, { key: string; config: oidc.Configuration }>();

  /**
   * Fetches the issuer's discovery document and checks it: the issuer it names must be the one given
   * (openid-client checks that) and it must offer the code flow with a client secret. Answers the metadata.
   */
  async function discover(issuer: string, clientId: string): Promise<Record<string, unknown>> {
    let metadata: oidc.ServerMetadata;
    try {
      const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute: isLoopbackHttp(issuer) ? [oidc.allowInsecureRequests] : [], timeout: DISCOVERY_TIMEOUT_SECONDS });
      metadata = config.serverMetadata();
    } catch (error) {
      throw invalid('SSO_DISCOVERY_FAILED', `Could not read the OpenID configuration of ${issuer} (${discoveryReason(error)}). Check the issuer URL: ${issuer.replace(/\/$/, '')}/.well-known/openid-configuration must answer from this server, and its "issuer" must equal the URL exactly.`);
    }
    if (!metadata.authorization_endpoint || !metadata.token_endpoint || !metadata.jwks_uri) {
      throw invalid('SSO_DISCOVERY_FAILED', `The OpenID configuration of ${issuer} lacks an authorization, token or JWKS endpoint; it cannot serve the authorization code flow.`);
    }
    if (!clientAuthFor(metadata, 'x')) {
      throw invalid('SSO_DISCOVERY_FAILED', `${issuer} supports neither client_secret_basic nor client_secret_post at its token endpoint; Custos authenticates with a client secret.`);
    }
    return { ...metadata };
  }

  /** The tenant's client, built from the stored metadata (no network) and cached until the settings change. */
  function configuration(tenantId: string, settings: { issuer: string; clientId: string; metadata: Record<string, unknown> }, clientSecret: string): oidc.Configuration {
    const key = createHash('sha256').update(JSON.stringify([settings.issuer, settings.clientId, settings.metadata, clientSecret])).digest('hex');
    const cached = configurations.get(tenantId);
    if (cached?.key === key) return cached.config;
    const metadata = settings.metadata as unknown as oidc.ServerMetadata;
    const config = new oidc.Configuration(metadata, settings.clientId, undefined, clientAuthFor(metadata, clientSecret) ?? oidc.ClientSecretBasic(clientSecret));
    if (isLoopbackHttp(settings.issuer)) oidc.allowInsecureRequests(config);
    configurations.set(tenantId, { key, config });
    return config;
  }

  /** A fresh state, nonce and PKCE verifier, and the IdP URL that starts the authorization code flow with them. */
  async function authorizationRequest(config: oidc.Configuration, redirectUri: string, scopes: string[]) {
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: scopes.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { state, nonce, codeVerifier, url: url.toString() };
  }

  /**
   * Exchanges the code (with the PKCE verifier) and validates the ID token: signature, issuer, audience,
   * expiry and nonce (openid-client). Claims the ID token lacks are completed from userinfo, when offered.
   */
  async function exchange(config: oidc.Configuration, callbackUrl: URL, checks: { state: string; nonce: string; codeVerifier: string }, wanted: string[]): Promise<IdpClaims> {
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true });
    const claims = { ...tokens.claims()! } as IdpClaims;
    if (wanted.some((claim) => claims[claim] === undefined) && config.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      for (const [name, value] of Object.entries(info)) if (claims[name] === undefined) claims[name] = value;
    }
    return claims;
  }

  return { discover, configuration, authorizationRequest, exchange };
}
export type SsoOidc = ReturnType<typeof createSsoOidc>;
