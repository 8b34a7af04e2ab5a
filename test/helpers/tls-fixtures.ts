import { Agent, request } from 'node:https';
import { generate } from 'selfsigned';

export interface Pems {
  ca: string;
  key: string;
  cert: string;
}

/** A throwaway CA and a serving certificate for localhost and 127.0.0.1 signed by it (EC P-256 or RSA 2048). */
export async function throwawayCertificates(keyType: 'ec' | 'rsa' = 'ec'): Promise<Pems> {
  const common = keyType === 'ec' ? ({ keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const) : ({ keyType: 'rsa', keySize: 2048, algorithm: 'sha256' } as const);
  const ca = await generate([{ name: 'commonName', value: 'autostash-test-ca' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const serving = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { ca: ca.cert, key: serving.private, cert: serving.cert };
}

export interface HttpsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request to 127.0.0.1:`port` trusting only `ca`; resolves with status, headers and body, or
 * rejects on a transport error. `agent` (keep-alive) is optional: without it each request opens a connection.
 */
export function httpsRequest(
  port: number,
  ca: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = Buffer.byteLength(options.body);
    }
    const req = request(
      { host: '127.0.0.1', port, method, path, ca, servername: 'localhost', headers, ...(options.agent ? { agent: options.agent } : { agent: false }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
