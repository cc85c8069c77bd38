// panva's oidc-provider as a real third-party OpenID provider for authbff's
// end-to-end tests (api/panva_e2e_test.go). It listens on 127.0.0.1:$PORT
// (0 picks a free port) and prints "listening <issuer>" once ready.
//
// Env: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI (the app's callback),
// ACCESS_TTL (seconds, default 3600). One confidential client
// (client_secret_post or _basic), ID tokens signed with ES256, devInteractions
// for login and consent (the test submits their forms), profile claims only
// at userinfo (the library's default), refresh tokens without offline_access.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const env = (k, d) => process.env[k] || d;
const port = Number(env('PORT', '0'));
const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const rs256 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const accounts = {
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, name: `Panva ${sub}`, email: `${sub}@panva.example`, email_verified: true };
      },
    };
  },
};

async function start() {
  // The issuer names the port actually listened on: listen first.
  const { createServer } = await import('node:http');
  const server = createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('CLIENT_ID', 'panva-client'),
      client_secret: env('CLIENT_SECRET', 'panva-secret'),
      redirect_uris: [env('REDIRECT_URI', 'http://127.0.0.1:3000/api/auth/callback/panva')],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    }],
    jwks: { keys: [{ ...es256, kid: 'es256-1', alg: 'ES256', use: 'sig' }, { ...rs256, kid: 'rs256-1', alg: 'RS256', use: 'sig' }] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256', 'RS256'] },
    findAccount: accounts.findAccount,
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    cookies: { keys: ['authbff-e2e-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: Number(env('ACCESS_TTL', '3600')) },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
}

start().catch((err) => {
  console.error(err);
  process.exit(1);
});
