import { defaultDnsNames, ensureCertificates } from '../server/certificates.js';

export interface CertsFlags {
  dir: string;
  namespace: string;
  dnsName: string[];
  days: number;
}

/**
 * `autostash certs`: loads the certificate set in `dir`, or generates it when the directory holds
 * none, and prints where it is, until when it is valid, and the caBundle (last line, alone, for scripts).
 */
export async function runCerts(flags: CertsFlags, stdout: NodeJS.WritableStream): Promise<void> {
  const dnsNames = [...new Set([...defaultDnsNames(flags.namespace), ...flags.dnsName])];
  const loaded = await ensureCertificates(flags.dir, { namespace: flags.namespace, dnsNames, days: flags.days });
  const action = loaded.generated ? 'generated' : 'using existing';
  stdout.write(`${action} certificates in ${loaded.paths.dir} (serving certificate valid until ${loaded.notAfter.toISOString()})\n`);
  if (loaded.caBundle === undefined) {
    stdout.write(`no CA certificate found (${loaded.paths.caPath}); put the issuing CA there to print a caBundle\n`);
    return;
  }
  stdout.write(`caBundle:\n${loaded.caBundle}\n`);
}
