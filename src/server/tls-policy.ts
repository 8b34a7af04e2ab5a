import type { SecureContextOptions, Server as TlsServer, TlsOptions } from 'node:tls';

/**
 * TLS 1.2 cipher suites the webhook offers: forward secrecy (ECDHE) with an AEAD cipher only, for ECDSA and
 * RSA serving keys. No CBC, no SHA-1 MACs, no static RSA key exchange.
 */
export const tls12CipherSuites: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/** Every TLS 1.3 suite: all of them are AEAD with forward secrecy. */
export const tls13CipherSuites: readonly string[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/**
 * The protocol and cipher policy of every autostash HTTPS server: TLS 1.2 or 1.3 only, the suites above only,
 * server preference. kube-apiserver (Go crypto/tls) negotiates TLS 1.3 or one of these ECDHE-GCM suites, so the
 * policy costs no compatibility with the only client the webhook has.
 */
export const tlsPolicy: Readonly<Pick<TlsOptions & SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'>> = Object.freeze({
  minVersion: 'TLSv1.2',
  ciphers: [...tls13CipherSuites, ...tls12CipherSuites].join(':'),
  honorCipherOrder: true,
});

/**
 * `options` with the policy forced over it: whatever a caller passes for versions or ciphers, the server
 * never offers less than the policy.
 */
export function withTlsPolicy<T extends object>(options: T): T & typeof tlsPolicy {
  return { ...options, ...tlsPolicy };
}

/**
 * Makes every later `server.setSecureContext(options)` (certificate reloads) apply the policy too. Node
 * rebuilds the context from the options given there alone, so a reload with only key and cert would silently
 * fall back to Node's default cipher list (CBC and static-RSA suites included).
 */
export function keepTlsPolicyOnReload(server: Pick<TlsServer, 'setSecureContext'>): void {
  const setSecureContext = server.setSecureContext.bind(server);
  server.setSecureContext = (options: SecureContextOptions) => setSecureContext(withTlsPolicy(options));
}
