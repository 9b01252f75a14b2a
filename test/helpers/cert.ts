/**
 * Self-signed certificates for CN=localhost (and IP 127.0.0.1), made with openssl for the
 * run: for TLS servers in tests, and for peers that read PEM files (Chromium, Hypercorn).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  key: Buffer;
  cert: Buffer;
  /** Where the PEM files are (key.pem, cert.pem); removed by {@link removeCert}. */
  dir: string;
}

/** Makes a certificate and keeps its files; null when openssl cannot (the suite's gate says why). */
export function makeCert(): TestCert | null {
  const dir = mkdtempSync(join(tmpdir(), 'wscore-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), dir };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

export function removeCert(cert: TestCert | null): void {
  if (cert !== null) rmSync(cert.dir, { recursive: true, force: true });
}

/** A certificate in memory only (its files removed at once); null without openssl. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } | null {
  const made = makeCert();
  if (made === null) return null;
  removeCert(made);
  return { key: made.key, cert: made.cert };
}
