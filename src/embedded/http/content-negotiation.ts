/** The response shape a client asked for in its Accept header. */
export type ResponseShape = { as: 'object' } | { as: 'Table'; apiVersion: string };

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

/** Splits an Accept header into media ranges with lower-cased parameter names. */
export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((range) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim());
    const parsed: Record<string, string> = {};
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq > 0) parsed[param.slice(0, eq).trim().toLowerCase()] = param.slice(eq + 1).trim();
    }
    return { type: type.toLowerCase(), params: parsed };
  });
}

const jsonTypes = new Set(['application/json', 'application/*', '*/*']);

/**
 * The first acceptable shape in the client's order of preference: a `meta.k8s.io` Table (v1 or
 * v1beta1) when the client asks for `as=Table` and `tableAllowed`, the plain object otherwise.
 * Other `as=` shapes (aggregated discovery, PartialObjectMetadata) are skipped: clients list the
 * plain shape as a fallback and read the kind of what comes back.
 */
export function negotiateShape(accept: string | undefined, tableAllowed: boolean): ResponseShape {
  for (const range of parseAccept(accept)) {
    if (!jsonTypes.has(range.type)) continue;
    const as = range.params.as;
    if (as === undefined) return { as: 'object' };
    if (as === 'Table' && tableAllowed && (range.params.g ?? 'meta.k8s.io') === 'meta.k8s.io') {
      const version = range.params.v ?? 'v1';
      if (version === 'v1' || version === 'v1beta1') return { as: 'Table', apiVersion: `meta.k8s.io/${version}` };
    }
  }
  return { as: 'object' };
}
