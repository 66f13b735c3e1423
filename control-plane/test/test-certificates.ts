import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throw-away PKI made with the openssl CLI for TLS/mTLS tests: a CA, a server certificate for
 * localhost/127.0.0.1, and client certificates whose subject CN is a device id (optionally from another CA).
 */

export interface TestPki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Paths of a client's certificate and key, made on demand. */
  client(commonName: string, options?: { otherCa?: boolean }): { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
  ]);
}

/** `<name>.crt` and `<name>.key` for subject CN `cn`, signed by `<caName>`, with the given X.509 extensions. */
function makeSigned(dir: string, name: string, cn: string, caName: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.crt`,
    '-CAkey',
    `${caName}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

export function makeTestPki(dir: string): TestPki {
  makeCa(dir, 'test-ca');
  makeSigned(
    dir,
    'server',
    'localhost',
    'test-ca',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  let otherCa = false;
  return {
    caCert: join(dir, 'test-ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    client(commonName, options = {}) {
      const caName = options.otherCa ? 'other-ca' : 'test-ca';
      if (options.otherCa && !otherCa) {
        makeCa(dir, 'other-ca');
        otherCa = true;
      }
      const name = `client-${commonName}-${caName}`;
      makeSigned(dir, name, commonName, caName, 'extendedKeyUsage=clientAuth\n');
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
  };
}
