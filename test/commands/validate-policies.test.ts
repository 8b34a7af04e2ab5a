// `autostash validate` applies BackupPolicies found among its inputs, like the webhook does.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runValidate } from '../../src/commands/validate.js';
import { captureStream, stdinWith } from '../helpers/streams.js';

async function validate(files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-validate-policies-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runValidate([dir], { stdin: stdinWith(''), stdout, stderr });
  return { code, lines: stdout.text().split('\n').filter(Boolean), stderr: stderr.text() };
}

const hasLine = (lines: string[], pattern: RegExp): boolean => lines.some((line) => pattern.test(line));

const namespaces = `
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
`;

const workloads = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: web-data}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: dev}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: web-data}}]
---
apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {name: keep-little, namespace: prod}
spec:
  successfulSnapshots: {daily: 2}
`;

const policy = (action: string) => `
apiVersion: policy.autostash.dev/v1alpha1
kind: BackupPolicy
metadata: {name: production}
spec:
  rules:
    requireBackup:
      action: ${action}
      namespaceSelector: {matchLabels: {env: prod}}
    retention:
      action: Warn
      minimumKept: {daily: 7}
`;

t.test('a Deny policy among the files fails the non-compliant workload only', async (t) => {
  const result = await validate({ 'ns.yaml': namespaces, 'apps.yaml': workloads, 'policy.yaml': policy('Deny') });
  t.equal(result.code, 1, result.lines.join('\n'));
  t.ok(result.lines.includes('OK BackupPolicy production'), 'the policy itself is valid (cluster-scoped: no namespace)');
  t.ok(hasLine(result.lines, /^FAIL Deployment prod\/web: metadata\.annotations: BackupPolicy "production" rule requireBackup \(Deny\): Deployment prod\/web mounts PVC web-data but has no auto backup/), result.lines.join('\n'));
  t.ok(result.lines.includes('OK Deployment dev/web'), 'dev is not selected');
  t.ok(hasLine(result.lines, /^WARN RetentionPolicy prod\/keep-little: BackupPolicy "production" rule retention \(Warn\): .*fewer than the required 7/), result.lines.join('\n'));
});

t.test('Warn policies allow with warnings', async (t) => {
  const result = await validate({ 'ns.yaml': namespaces, 'apps.yaml': workloads, 'policy.yaml': policy('Warn') });
  t.equal(result.code, 0, result.lines.join('\n'));
  t.ok(hasLine(result.lines, /^WARN Deployment prod\/web: BackupPolicy "production" rule requireBackup \(Warn\)/), result.lines.join('\n'));
});

t.test('an invalid BackupPolicy fails with its own rules', async (t) => {
  const result = await validate({
    'policy.yaml': `
apiVersion: policy.autostash.dev/v1alpha1
kind: BackupPolicy
metadata: {name: broken}
spec:
  rules:
    schedule: {maxInterval: 1h, minInterval: 2h}
`,
  });
  t.equal(result.code, 1);
  t.ok(hasLine(result.lines, /^FAIL BackupPolicy broken: spec\.rules\.schedule\.minInterval: must be less than maxInterval/), result.lines.join('\n'));
});

t.test('without policies, workloads pass (they only get auto-backup checks)', async (t) => {
  const result = await validate({ 'ns.yaml': namespaces, 'apps.yaml': workloads });
  t.equal(result.code, 0, result.lines.join('\n'));
  t.ok(result.lines.includes('OK Deployment prod/web'));
});
