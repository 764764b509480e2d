// Sign-in through a real OpenID Connect provider written by others (oidc-provider, from
// npm), with the real binary:
//
// 1. the provider issues JWT access tokens (RS256, client credentials with a resource
//    indicator) whose `preferred_username` names an account; one reaches
//    /api/v1/auth/me as that account, with the service's own role;
// 2. a token for another audience, and one naming an account the service does not have,
//    are each 401 with a reason;
// 3. the provider rotates its signing key (a new key set, served at the same issuer): a
//    token signed with the new key works, the service having fetched the key set again;
// 4. with passwords turned off (PARINDEX_LOCAL_LOGIN=false), a password login is refused
//    and the provider's token still works.
//
// Usage: node check.mjs BINARY WORKDIR

import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';
import Provider from 'oidc-provider';

const [binary, workdir] = process.argv.slice(2);
if (!binary || !workdir) {
  console.error('usage: node check.mjs BINARY WORKDIR');
  process.exit(2);
}

const AUDIENCE = 'parindex';
const RESOURCE = 'https://cchc.quangtri.gov.vn/api';
const ADMIN_PASSWORD = 'oidc-check-admin-password';

function signingKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

// Two systems: one acting as the service's `admin`, one naming an account it lacks.
const CLIENTS = {
  'parindex-system': { secret: 'system-secret-0123456789', username: 'admin' },
  'stranger-system': { secret: 'stranger-secret-0123456789', username: 'ghost' },
};

function provider(issuer, key) {
  const p = new Provider(issuer, {
    clients: Object.entries(CLIENTS).map(([id, c]) => ({
      client_id: id,
      client_secret: c.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    })),
    jwks: { keys: [key] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'api',
          // Another service's tokens carry another audience.
          audience: resource === RESOURCE ? AUDIENCE : 'another-service',
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => ({
      preferred_username: CLIENTS[token.clientId]?.username,
    }),
  });
  p.proxy = false;
  return p;
}

function check(condition, message) {
  if (!condition) {
    throw new Error(`FAILED: ${message}`);
  }
  console.log(`ok: ${message}`);
}

async function token(issuer, clientId, resource = RESOURCE) {
  const c = CLIENTS[clientId];
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${c.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource }),
  });
  const body = await response.json();
  if (!response.ok) {
    throw new Error(`the provider refused a token: ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

function kidOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid;
}

async function freePort() {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

async function startServer(env) {
  const port = await freePort();
  const child = spawn(binary, [], {
    cwd: workdir,
    env: { ...process.env, ...env, PARINDEX_ADDR: `127.0.0.1:${port}` },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited during start-up (${child.exitCode})`);
    }
    try {
      if ((await fetch(`${base}/health/ready`)).ok) {
        return { base, child };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the server did not become ready');
}

async function stopServer(server) {
  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
}

async function me(base, bearer) {
  const response = await fetch(`${base}/api/v1/auth/me`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  return { status: response.status, body: await response.json() };
}

async function main() {
  // The provider: one HTTP server whose handler is swapped on rotation (same issuer).
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  let handler = provider(issuer, signingKey('key-2026-a')).callback();
  const http = createServer((req, res) => handler(req, res));
  http.listen(port, '127.0.0.1');
  await once(http, 'listening');

  const env = {
    DATABASE_URL: `sqlite://${workdir}/oidc.db?mode=rwc`,
    PARINDEX_ADMIN_PASSWORD: ADMIN_PASSWORD,
    PARINDEX_OIDC_ISSUER: issuer,
    PARINDEX_OIDC_AUDIENCE: AUDIENCE,
    // Rotation is noticed at once in this check (the default waits a minute between fetches).
    PARINDEX_OIDC_REFETCH_SECONDS: '1',
    PARINDEX_EVIDENCE_DIR: `${workdir}/evidence`,
  };
  let server = await startServer(env);
  try {
    const first = await token(issuer, 'parindex-system');
    check(kidOf(first) === 'key-2026-a', 'the provider signs with its first key');
    const answer = await me(server.base, first);
    check(answer.status === 200, `a provider's token reaches /auth/me (${answer.status})`);
    check(
      answer.body.username === 'admin' && answer.body.role === 'admin',
      `as the account its preferred_username names, with the service's role (${answer.body.username}, ${answer.body.role})`,
    );

    const other = await me(server.base, await token(issuer, 'parindex-system', 'https://another.example/api'));
    check(other.status === 401, `a token for another audience is 401 (${other.status}: ${other.body.detail})`);
    const ghost = await me(server.base, await token(issuer, 'stranger-system'));
    check(ghost.status === 401, `a token naming an unknown account is 401 (${ghost.status}: ${ghost.body.detail})`);

    // Rotation: the provider now publishes and signs with another key only.
    await new Promise((r) => setTimeout(r, 1100));
    handler = provider(issuer, signingKey('key-2026-b')).callback();
    const rotated = await token(issuer, 'parindex-system');
    check(kidOf(rotated) === 'key-2026-b', 'after rotation the provider signs with its new key');
    const after = await me(server.base, rotated);
    check(after.status === 200, `a token signed with the new key works (${after.status})`);

    // Passwords off: only the provider's tokens (and the break-glass admin) remain.
    await stopServer(server);
    server = await startServer({ ...env, PARINDEX_LOCAL_LOGIN: 'false', PARINDEX_BREAK_GLASS_ADMIN: 'root' });
    const login = await fetch(`${server.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    check(login.status === 403, `with PARINDEX_LOCAL_LOGIN=false a password login is refused (${login.status})`);
    const still = await me(server.base, await token(issuer, 'parindex-system'));
    check(still.status === 200, `and the provider's token still works (${still.status})`);
  } finally {
    await stopServer(server).catch(() => {});
    http.close();
  }
  console.log('OpenID Connect against oidc-provider: all checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
