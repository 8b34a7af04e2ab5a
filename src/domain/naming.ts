/**
 * KubeStash's object-name algorithms (SPEC §2.1, §3.4, §4.3), byte for byte as kmodules' meta/lib.go.
 * Kubernetes names are ASCII, so JavaScript string indices equal Go byte indices here.
 */

export const DNS1123_LABEL_MAX_LENGTH = 63;
export const MAX_CRONJOB_NAME_LENGTH = 52;

/** Go's strings.Trim(s, "-"): strips every leading and trailing dash. */
function trimDashes(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value[start] === '-') start++;
  while (end > start && value[end - 1] === '-') end--;
  return value.slice(start, end);
}

/**
 * `prefix-name-suffix`, or when longer than maxLength the first ⌈max/2⌉ and last ⌊max/2⌋ characters
 * joined (the middle is dropped); leading/trailing dashes are trimmed either way.
 */
export function validNameWithPrefixNSuffix(
  prefix: string,
  name: string,
  suffix: string,
  maxLength: number = DNS1123_LABEL_MAX_LENGTH,
): string {
  const out = `${prefix}-${name}-${suffix}`;
  if (out.length <= maxLength) return trimDashes(out);
  return trimDashes(out.slice(0, Math.floor((maxLength + 1) / 2)) + out.slice(out.length - Math.floor(maxLength / 2)));
}

/** `prefix-name` cut to its first maxLength characters, dashes trimmed. */
export function validNameWithPrefix(prefix: string, name: string, maxLength: number = DNS1123_LABEL_MAX_LENGTH): string {
  return trimDashes(`${prefix}-${name}`.slice(0, maxLength));
}

/** `name-suffix` cut to its last maxLength characters, dashes trimmed. */
export function validNameWithSuffix(name: string, suffix: string, maxLength: number = DNS1123_LABEL_MAX_LENGTH): string {
  const out = `${name}-${suffix}`;
  return trimDashes(out.slice(Math.max(0, out.length - maxLength)));
}

/** The CronJob variants: same algorithms with the 52-character CronJob name limit. */
export const validCronJobNameWithPrefixNSuffix = (prefix: string, name: string, suffix: string): string =>
  validNameWithPrefixNSuffix(prefix, name, suffix, MAX_CRONJOB_NAME_LENGTH);
export const validCronJobNameWithPrefix = (prefix: string, name: string): string =>
  validNameWithPrefix(prefix, name, MAX_CRONJOB_NAME_LENGTH);
export const validCronJobNameWithSuffix = (name: string, suffix: string): string =>
  validNameWithSuffix(name, suffix, MAX_CRONJOB_NAME_LENGTH);

const trailingNumber = /^(.*)-([0-9]+)$/;

/**
 * Snapshot name for a repository and a BackupSession (GenerateSnapshotName): the session's numeric
 * suffix becomes the suffix, so the timestamp survives shortening. Without a numeric suffix the
 * whole session name is the middle part and the suffix is empty.
 */
export function generateSnapshotName(repositoryName: string, backupSessionName: string): string {
  const match = trailingNumber.exec(backupSessionName);
  if (match === null) return validNameWithPrefixNSuffix(repositoryName, backupSessionName, '');
  return validNameWithPrefixNSuffix(repositoryName, match[1] ?? '', match[2] ?? '');
}

/**
 * BackupSession name (GenerateBackupSessionName): `<invoker>-<session>-<unix seconds>`, shortened.
 * The time is an argument because domain code never reads the clock.
 */
export function generateBackupSessionName(invokerName: string, sessionName: string, unixSeconds: number): string {
  return validNameWithPrefixNSuffix(invokerName, sessionName, String(Math.trunc(unixSeconds)));
}
