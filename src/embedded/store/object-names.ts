/**
 * Name rules kube-apiserver applies to metadata.name, per resource: DNS-1123 subdomain for most,
 * DNS-1123 label for namespaces and services, a path segment for RBAC objects, `<plural>.<group>`
 * for CRDs. Each returns the problems as messages (empty when valid).
 */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function subdomainProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 253) problems.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(name)) {
    problems.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return problems;
}

function labelProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 63) problems.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(name)) {
    problems.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return problems;
}

function pathSegmentProblems(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  if (name.includes('/')) return [`may not contain '/'`];
  if (name.includes('%')) return [`may not contain '%'`];
  return [];
}

const LABEL_NAMED = new Set(['/namespaces', '/services']);
const PATH_SEGMENT_NAMED = new Set(['rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/clusterroles', 'rbac.authorization.k8s.io/rolebindings', 'rbac.authorization.k8s.io/clusterrolebindings']);

/** Problems with `name` for a resource (`group` '' for core); empty when the name is valid. */
export function nameProblems(group: string, resource: string, name: string): string[] {
  const key = `${group}/${resource}`;
  if (LABEL_NAMED.has(key)) return labelProblems(name);
  if (PATH_SEGMENT_NAMED.has(key)) return pathSegmentProblems(name);
  return subdomainProblems(name);
}

/** The generateName prefix is cut so that prefix + 5 random characters stays within 63 characters. */
export function generatedName(prefix: string, random: () => string): string {
  const maxPrefix = 58;
  return `${prefix.length > maxPrefix ? prefix.slice(0, maxPrefix) : prefix}${random()}`;
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters from kube's generateName alphabet (no vowels, no look-alike digits). */
export function randomSuffix(): string {
  let suffix = '';
  for (let index = 0; index < 5; index += 1) suffix += SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)];
  return suffix;
}
