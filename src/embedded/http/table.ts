import type { KubeObject } from '../../domain/kube-object.js';
import type { ResourceType } from '../api-types.js';

/** A CRD `additionalPrinterColumns` entry, or a built-in column in the same shape. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Columns kubectl shows for a few built-in kinds, beyond Name and Age. */
const builtinColumns: Record<string, PrinterColumn[]> = {
  '/namespaces': [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }],
  '/pods': [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }],
  '/persistentvolumeclaims': [
    { name: 'Status', type: 'string', jsonPath: '.status.phase' },
    { name: 'Volume', type: 'string', jsonPath: '.spec.volumeName' },
  ],
  '/persistentvolumes': [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }],
  'apps/deployments': [
    { name: 'Ready', type: 'string', jsonPath: '' },
    { name: 'Up-to-date', type: 'integer', jsonPath: '' },
    { name: 'Available', type: 'integer', jsonPath: '' },
  ],
  'batch/jobs': [{ name: 'Completions', type: 'string', jsonPath: '' }],
};

/** Cells computed from several fields (the columns above with an empty jsonPath). */
const computedCells: Record<string, (object: KubeObject) => unknown> = {
  'apps/deployments/Ready': (o) => `${num(at(o, '.status.readyReplicas'))}/${num(at(o, '.spec.replicas') ?? 1)}`,
  'apps/deployments/Up-to-date': (o) => num(at(o, '.status.updatedReplicas')),
  'apps/deployments/Available': (o) => num(at(o, '.status.availableReplicas')),
  'batch/jobs/Completions': (o) => `${num(at(o, '.status.succeeded'))}/${num(at(o, '.spec.completions') ?? 1)}`,
};

const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** Built-in extra columns for a resource type (empty for unknown ones). */
export function builtinPrinterColumns(type: ResourceType): PrinterColumn[] {
  return builtinColumns[`${type.group}/${type.resource}`] ?? [];
}

/**
 * Evaluates the simple JSONPath forms printer columns use: `.a.b`, `.a[0].b`, and
 * `.a[?(@.k=="v")].b` (first match). Undefined when any step is missing.
 */
export function at(object: unknown, path: string): unknown {
  const steps = path.match(/\.[^.[\]]+|\[\?\(@\.[^=]+==(?:"[^"]*"|'[^']*')\)\]|\[\d+\]/g) ?? [];
  let current: unknown = object;
  for (const step of steps) {
    if (current === null || current === undefined) return undefined;
    if (step.startsWith('.')) {
      current = typeof current === 'object' ? (current as Record<string, unknown>)[step.slice(1)] : undefined;
    } else if (step.startsWith('[?')) {
      const filter = /^\[\?\(@\.([^=]+)==["']([^"']*)["']\)\]$/.exec(step);
      const [, key, wanted] = filter ?? [];
      current = Array.isArray(current) ? current.find((item) => String((item as Record<string, unknown>)?.[key ?? '']) === wanted) : undefined;
    } else {
      current = Array.isArray(current) ? current[Number(step.slice(1, -1))] : undefined;
    }
  }
  return current;
}

/** Kubernetes' short human duration (`45s`, `3m12s`, `5h`, `12d`), as kubectl prints ages. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) return `${Math.floor(hours / 24 / 365)}y${Math.floor(hours / 24) % 365}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

const age = (timestamp: unknown, now: number): string => {
  if (typeof timestamp !== 'string') return '<unknown>';
  const time = Date.parse(timestamp);
  return Number.isNaN(time) ? '<unknown>' : humanDuration(now - time);
};

const columnType = (type: string): string => (type === 'date' ? 'string' : type);

export interface TableOptions {
  type: ResourceType;
  /** CRD additionalPrinterColumns (when defined, they replace the built-in extras and the default Age). */
  crdColumns?: PrinterColumn[];
  includeObject: IncludeObject;
  /** `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`, as the client asked. */
  apiVersion: string;
  now: number;
}

/**
 * A `Table` (server-side printing, what `kubectl get` asks for) of one object or a list: Name, the
 * CRD's printer columns or a few built-in ones, and Age. Each row carries the object as the client
 * asked (`includeObject`: None, Metadata as PartialObjectMetadata (the default), or Object).
 */
export function renderTable(objects: readonly KubeObject[], listMetadata: Record<string, unknown>, options: TableOptions): KubeObject {
  const { type, now } = options;
  const extra = options.crdColumns ?? builtinPrinterColumns(type);
  const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
  const columns = options.crdColumns && options.crdColumns.length > 0 ? extra : [...extra, ageColumn];
  const columnDefinitions = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    ...columns.map((c) => ({ name: c.name, type: columnType(c.type), format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
  ];
  const rows = objects.map((object) => {
    const cells: unknown[] = [object.metadata?.name ?? ''];
    for (const column of columns) {
      const computed = computedCells[`${type.group}/${type.resource}/${column.name}`];
      const value = computed ? computed(object) : at(object, column.jsonPath);
      cells.push(column.type === 'date' ? age(value, now) : value === undefined ? (column.type === 'string' ? '' : null) : value);
    }
    return {
      cells,
      ...(options.includeObject === 'Object'
        ? { object }
        : options.includeObject === 'Metadata'
          ? { object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata } }
          : {}),
    };
  });
  return { kind: 'Table', apiVersion: options.apiVersion, metadata: listMetadata, columnDefinitions, rows } as unknown as KubeObject;
}

/** The printer columns of a CRD object for `version` (empty when it defines none). */
export function crdPrinterColumns(crd: KubeObject, version: string): PrinterColumn[] {
  const versions = (crd.spec as { versions?: { name?: string; additionalPrinterColumns?: PrinterColumn[] }[] } | undefined)?.versions ?? [];
  return versions.find((v) => v.name === version)?.additionalPrinterColumns ?? [];
}
