// panva's oidc-provider with RFC 8707 resource indicators and the client
// credentials grant, for bff's per-upstream token tests
// (bff/upstream_panva_test.go). It uses the oidc-provider installed by
// .ci/deps in bff/testdata/oidcprovider (OIDC_PROVIDER_DIR) and prints
// "listening <issuer>" once ready.
//
// Env: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, ACCESS_TTL (seconds),
// RESOURCES (comma list of the resource servers: JWT access tokens whose aud
// is the resource, scope api:read).
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (k, d) => process.env[k] || d;
const { default: Provider } = await import(pathToFileURL(join(env('OIDC_PROVIDER_DIR'), 'node_modules/oidc-provider/lib/index.js')).href);
const rs256 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ttl = Number(env('ACCESS_TTL', '3600'));
const resources = env('RESOURCES', '').split(',').filter(Boolean);

const server = createServer();
await new Promise((resolve) => server.listen(Number(env('PORT', '0')), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: env('CLIENT_ID'),
    client_secret: env('CLIENT_SECRET'),
    redirect_uris: [env('REDIRECT_URI')],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'openid profile email api:read',
  }],
  jwks: { keys: [{ ...rs256, kid: 'rs256-1', alg: 'RS256', use: 'sig' }] },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, name: `Panva ${sub}` }) }),
  claims: { openid: ['sub'], profile: ['name'] },
  scopes: ['openid', 'profile', 'email', 'api:read'],
  cookies: { keys: ['authbff-rs-cookie-key-0123456789'] },
  ttl: { AccessToken: ttl, ClientCredentials: ttl },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (ctx, resource) => {
        if (!resources.includes(resource)) throw new Provider.errors.InvalidTarget();
        return { scope: 'api:read', audience: resource, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  renderError(ctx, out) { ctx.type = 'json'; ctx.body = out; },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description));
server.on('request', provider.callback());
console.log(`listening ${issuer}`);
