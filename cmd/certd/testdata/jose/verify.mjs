// Verifies a certd credential with an independent JOSE implementation.
// Usage: node verify.mjs JWKS_FILE TOKEN_FILE ISSUER_URL
// Prints {"header": ..., "payload": ...} on success; exits 1 on failure.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [jwksFile, tokenFile, issuer] = process.argv.slice(2);
const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));
const token = readFileSync(tokenFile, 'utf8').trim();
try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    typ: 'vc+jwt',
    algorithms: ['EdDSA', 'ES256'],
    requiredClaims: ['exp', 'iat', 'jti'],
  });
  process.stdout.write(JSON.stringify({ header: protectedHeader, payload }));
} catch (err) {
  process.stderr.write(`${err.code || 'ERR'}: ${err.message}\n`);
  process.exit(1);
}
