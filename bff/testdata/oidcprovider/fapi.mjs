// panva's oidc-provider configured above the baseline (issue 24), for
// bff/sec_*_test.go: pushed authorization requests REQUIRED, DPoP, one
// client that authenticates ONLY with private_key_jwt (no client secret
// exists), acr values. Listens on 127.0.0.1:$PORT (0: a free port), prints
// "listening <issuer>" once ready.
//
// Env: PORT, CLIENT_ID, REDIRECT_URI (the app's callback), JWKS_URI (the
// client's public keys: authbff's <base>/jwks), ACCESS_TTL (seconds,
// default 3600), DPOP_BOUND=1 (the client must use DPoP-bound tokens),
// DPOP_NONCE=1 (DPoP proofs need the server's nonce),
// ACR (the acr the login gives when the request asks for none; default
// urn:basic; asked acr_values are honoured when known), RESOURCES (comma
// list: RFC 8707 resource indicators for these resource servers, whose
// access tokens are ES256 JWTs with aud the resource and scope api:read,
// DPoP-bound like every token of a dpop_bound_access_tokens client; the
// client may then also use the client credentials grant).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

const env = (k, d) => process.env[k] || d;
const port = Number(env('PORT', '0'));
const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const acrValues = ['urn:basic', 'urn:mfa'];
const resources = env('RESOURCES', '').split(',').filter(Boolean);
const ttl = Number(env('ACCESS_TTL', '3600'));

// A login whose acr is not one of the acr_values asked for prompts a new
// login (as a real IdP asks for the second factor).
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check('acr_not_asked', 'the acr asked for needs a new login', (ctx) => {
  const asked = ctx.oidc.params.acr_values;
  if (asked && !asked.split(' ').includes(ctx.oidc.acr)) return interactionPolicy.Check.REQUEST_PROMPT;
  return interactionPolicy.Check.NO_NEED_TO_PROMPT;
}));

async function start() {
  const { createServer } = await import('node:http');
  const server = createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const client = {
    client_id: env('CLIENT_ID', 'fapi-client'),
    redirect_uris: [env('REDIRECT_URI', 'http://127.0.0.1:3000/api/auth/callback/fapi')],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks_uri: env('JWKS_URI', 'http://127.0.0.1:3000/api/auth/jwks'),
    id_token_signed_response_alg: 'ES256',
  };
  if (env('DPOP_BOUND', '') === '1') client.dpop_bound_access_tokens = true;
  if (resources.length > 0) client.grant_types.push('client_credentials');
  const provider = new Provider(issuer, {
    clients: [client],
    jwks: { keys: [{ ...es256, kid: 'es256-1', alg: 'ES256', use: 'sig' }] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    clientAuthMethods: ['private_key_jwt'],
    // The client's jwks_uri is authbff on loopback, which the library's
    // SSRF guard (special-use addresses) refuses: tests only.
    fetch: (url, options) => {
      delete options.dispatcher;
      return globalThis.fetch(url, options);
    },
    acrValues,
    ...(resources.length > 0 ? { scopes: ['openid', 'offline_access', 'api:read'] } : {}),
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, name: `Fapi ${sub}`, email: `${sub}@fapi.example`, email_verified: true };
        },
      };
    },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'], acr: null, auth_time: null },
    cookies: { keys: ['authbff-e2e-cookie-key-0123456789'] },
    interactions: { policy },
    features: {
      devInteractions: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      // DPOP_NONCE=1: every DPoP proof must carry the server's nonce
      // (use_dpop_nonce first).
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => env('DPOP_NONCE', '') === '1' },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      clientCredentials: { enabled: resources.length > 0 },
      // RESOURCES: the sign-in names them, a refresh grant narrows to one.
      resourceIndicators: {
        enabled: resources.length > 0,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (ctx, resource) => {
          if (!resources.includes(resource)) throw new errors.InvalidTarget();
          return { scope: 'api:read', audience: resource, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    ttl: { AccessToken: ttl },
    issueRefreshToken: async (ctx, c) => c.grantTypeAllowed('refresh_token'),
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  // devInteractions' login records no acr: the first known acr asked
  // for, else ACR (default urn:basic).
  const finished = provider.interactionFinished.bind(provider);
  provider.interactionFinished = async (req, res, result, opts) => {
    if (result.login) {
      const { params } = await provider.interactionDetails(req, res);
      const asked = (params.acr_values || '').split(' ').filter((v) => acrValues.includes(v));
      result.login.acr = asked[0] || env('ACR', 'urn:basic');
    }
    return finished(req, res, result, opts);
  };
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description));
  provider.on('pushed_authorization_request.error', (ctx, err) => console.error('par.error', err.message, err.error_description, err.error_detail, err.cause?.cause));
  provider.on('authorization.error', (ctx, err) => console.error('authorization.error', err.message, err.error_description));
  provider.on('revocation.error', (ctx, err) => console.error('revocation.error', err.message, err.error_description));
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
}

start().catch((err) => {
  console.error(err);
  process.exit(1);
});
