/**
 * Maps a BackupStorage, a repository directory and a component path to what restic needs to reach that
 * component's repository (SPEC §3.2, §8.2). Pure: the caller reads the Secret and writes the files.
 * RESTIC_PASSWORD comes from the encryption secret and is not handled here.
 */
import type { BackupStorage } from '../../api/index.js';
import { ErrorCodes, fieldError, type FieldError } from '../errors.js';

export interface ResticFile {
  /** File name (no directory); the caller picks a private directory for it. */
  name: string;
  content: string;
  /** Environment variable that must hold the absolute path where the caller wrote this file. */
  env: string;
}

export interface ResticTarget {
  /** RESTIC_REPOSITORY. */
  repository: string;
  /** Credentials and options restic reads from its environment. */
  env: Record<string, string>;
  /** Files to write before running restic (mode 0600); set `env[file.env]` to each file's path. */
  files?: ResticFile[];
  /** Global restic flags that have no environment variable (`--insecure-tls`, `--option=…`). */
  args: string[];
  warnings: string[];
}

export type ResticTargetResult = { ok: true; target: ResticTarget } | { ok: false; errors: FieldError[] };

const CA_FILE = 'ca.crt';
const GCS_KEY_FILE = 'gcs-service-account.json';

/** Splits on `/` and drops empty segments, so `//a/b/` and `a/b` give the same segments. */
const segments = (...parts: Array<string | undefined>): string[] =>
  parts.flatMap((p) => (p ?? '').split('/')).filter((s) => s !== '');

/**
 * Builds restic's repository URL, environment, files and flags for one component:
 * - local: `<mountPathOverride ?? mountPath>[/<subPath>]/<directory>/<componentPath>`
 * - s3:    `s3:<endpoint>/<bucket>/<prefix>/<directory>/<componentPath>`; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
 *          from the Secret unless `secretName` is empty (credential-less), region → AWS_DEFAULT_REGION,
 *          CA_CERT_DATA → a file named by RESTIC_CACERT, insecureTLS → `--insecure-tls`
 * - gcs:   `gs:<bucket>:/<prefix>/<directory>/<componentPath>`; GOOGLE_PROJECT_ID, and
 *          GOOGLE_SERVICE_ACCOUNT_JSON_KEY → a file named by GOOGLE_APPLICATION_CREDENTIALS
 * - azure: `azure:<container>:/<prefix>/<directory>/<componentPath>`; AZURE_ACCOUNT_NAME from storageAccount and
 *          AZURE_ACCOUNT_KEY from the Secret unless `secretName` is empty
 * maxConnections → `--option=<scheme>.connections=N`. Duplicate, leading and trailing slashes are normalised.
 * Errors name the field or the Secret key that is missing; secret values never appear in errors or warnings.
 */
export function resticTarget(
  storage: BackupStorage,
  directory: string,
  componentPath: string,
  secretData: Record<string, string>,
  mountPathOverride?: string,
): ResticTargetResult {
  const errors: FieldError[] = [];
  for (const [what, value] of [['directory', directory], ['component path', componentPath]] as const) {
    if (segments(value).some((s) => s === '..' || s === '.')) {
      errors.push(fieldError(ErrorCodes.Invalid, '', `the repository ${what} "${value}" must not contain "." or ".." segments`));
    }
  }
  const backend = storage.spec?.storage;
  const provider = backend?.provider ?? '';
  const base = 'spec.storage';
  const target: ResticTarget = { repository: '', env: {}, args: [], warnings: [] };
  const files: ResticFile[] = [];

  const fromSecret = (secretName: string, key: string, fieldPath: string): string | undefined => {
    const value = secretData[key];
    if (value === undefined || value === '') {
      errors.push(
        fieldError(ErrorCodes.Required, fieldPath, `Secret "${secretName}" has no value for key ${key}; add ${key} to the Secret`),
      );
      return undefined;
    }
    return value;
  };
  const required = (value: string | undefined, fieldPath: string, what: string): string => {
    if (value === undefined || value.trim() === '') errors.push(fieldError(ErrorCodes.Required, fieldPath, `${what} is required`));
    return value ?? '';
  };
  const connections = (scheme: string, max: number | undefined): void => {
    if (max !== undefined && max > 0) target.args.push(`--option=${scheme}.connections=${max}`);
  };
  const remotePath = (prefix: string | undefined): string => segments(prefix, directory, componentPath).join('/');

  switch (provider) {
    case 'local': {
      const local = backend?.local;
      const mountPath = mountPathOverride !== undefined && mountPathOverride !== '' ? mountPathOverride : local?.mountPath;
      required(mountPath, `${base}.local.mountPath`, 'the mount path of the local backend');
      target.repository = `/${segments(mountPath, local?.subPath, directory, componentPath).join('/')}`;
      if (mountPath !== undefined && mountPath.trim() !== '' && !mountPath.startsWith('/')) {
        errors.push(fieldError(ErrorCodes.Invalid, `${base}.local.mountPath`, `the mount path "${mountPath}" must be absolute`));
      }
      connections('local', local?.maxConnections);
      break;
    }
    case 's3': {
      const s3 = backend?.s3;
      const path = `${base}.s3`;
      const bucket = required(s3?.bucket, `${path}.bucket`, 'the s3 bucket');
      let endpoint = (s3?.endpoint ?? '').trim().replace(/\/+$/, '');
      if (endpoint === '') {
        endpoint = 's3.amazonaws.com';
        target.warnings.push(`${path}.endpoint is empty; using s3.amazonaws.com`);
      }
      target.repository = `s3:${endpoint}/${segments(bucket).join('/')}/${remotePath(s3?.prefix)}`;
      const secretName = s3?.secretName ?? '';
      if (secretName !== '') {
        const id = fromSecret(secretName, 'AWS_ACCESS_KEY_ID', `${path}.secretName`);
        const key = fromSecret(secretName, 'AWS_SECRET_ACCESS_KEY', `${path}.secretName`);
        if (id !== undefined) target.env.AWS_ACCESS_KEY_ID = id;
        if (key !== undefined) target.env.AWS_SECRET_ACCESS_KEY = key;
        const ca = secretData.CA_CERT_DATA;
        if (ca !== undefined && ca !== '') files.push({ name: CA_FILE, content: ca, env: 'RESTIC_CACERT' });
      }
      if (s3?.region !== undefined && s3.region !== '') target.env.AWS_DEFAULT_REGION = s3.region;
      if (s3?.insecureTLS === true) target.args.push('--insecure-tls');
      connections('s3', s3?.maxConnections);
      break;
    }
    case 'gcs': {
      const gcs = backend?.gcs;
      const path = `${base}.gcs`;
      const bucket = required(gcs?.bucket, `${path}.bucket`, 'the gcs bucket');
      target.repository = `gs:${bucket}:/${remotePath(gcs?.prefix)}`;
      const secretName = required(gcs?.secretName, `${path}.secretName`, 'a Secret with GOOGLE_PROJECT_ID and GOOGLE_SERVICE_ACCOUNT_JSON_KEY');
      if (secretName !== '') {
        const project = fromSecret(secretName, 'GOOGLE_PROJECT_ID', `${path}.secretName`);
        const key = fromSecret(secretName, 'GOOGLE_SERVICE_ACCOUNT_JSON_KEY', `${path}.secretName`);
        if (project !== undefined) target.env.GOOGLE_PROJECT_ID = project;
        if (key !== undefined) files.push({ name: GCS_KEY_FILE, content: key, env: 'GOOGLE_APPLICATION_CREDENTIALS' });
      }
      connections('gs', gcs?.maxConnections);
      break;
    }
    case 'azure': {
      const azure = backend?.azure;
      const path = `${base}.azure`;
      const container = required(azure?.container, `${path}.container`, 'the azure container');
      const account = required(azure?.storageAccount, `${path}.storageAccount`, 'the azure storage account');
      target.repository = `azure:${container}:/${remotePath(azure?.prefix)}`;
      target.env.AZURE_ACCOUNT_NAME = account;
      const secretName = azure?.secretName ?? '';
      if (secretName !== '') {
        const key = fromSecret(secretName, 'AZURE_ACCOUNT_KEY', `${path}.secretName`);
        if (key !== undefined) target.env.AZURE_ACCOUNT_KEY = key;
      }
      connections('azure', azure?.maxConnections);
      break;
    }
    default:
      errors.push(
        fieldError(
          provider === '' ? ErrorCodes.Required : ErrorCodes.NotSupported,
          `${base}.provider`,
          provider === '' ? 'the storage provider is required (local, s3, gcs or azure)' : `provider "${provider}" is not supported; use local, s3, gcs or azure`,
        ),
      );
  }
  if (errors.length > 0) return { ok: false, errors };
  if (files.length > 0) target.files = files;
  return { ok: true, target };
}
