// The image the install runs is the one the Dockerfile builds: the chart's appVersion and default tag
// are the release version, and the Dockerfile provides what Jobs and the Deployment call.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_VALUES } from '../../../src/api/install/index.js';
import { EXECUTOR_COMMAND } from '../../../src/domain/execution/addons-catalog.js';
import { AUTOSTASH_VERSION, DEFAULT_EXECUTOR_IMAGE } from '../../../src/version.js';
import { repoRoot } from '../../helpers/paths.js';

t.test('chart version, default image and executor image agree', async (t) => {
  const chart = parse(readFileSync(join(repoRoot, 'charts', 'autostash', 'Chart.yaml'), 'utf8')) as { appVersion: string };
  t.equal(chart.appVersion, AUTOSTASH_VERSION);
  t.equal(`${DEFAULT_VALUES.image.repository}:${DEFAULT_VALUES.image.tag}`, DEFAULT_EXECUTOR_IMAGE, 'Jobs default to the Deployment image');
});

t.test('the Dockerfile: multi-stage, Node 20, restic from Debian, non-root, autostash on PATH', async (t) => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  t.ok(stages.length >= 2, 'build and runtime stages');
  for (const image of stages) t.match(image, /^node:20-/, `${image} is Node 20`);
  t.match(dockerfile, /apt-get install -y --no-install-recommends restic ca-certificates/);
  t.match(dockerfile, /npm prune --omit=dev/, 'no dev dependencies in the runtime');
  t.match(dockerfile, /^USER 65534:65534$/m, 'runs as nobody (the Deployment runAsUser)');
  t.same(EXECUTOR_COMMAND, ['autostash']);
  t.match(dockerfile, /ln -s \/app\/dist\/cli\.js \/usr\/local\/bin\/autostash/, 'Jobs find `autostash` on PATH');
  t.match(dockerfile, /chmod 0755 dist\/cli\.js/, 'and may execute it');
  t.match(dockerfile, /^ENTRYPOINT \["node", "\/app\/dist\/cli\.js"\]$/m, 'the Deployment passes only args');
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['certs', 'node_modules', '.autostash']) t.ok(ignored.includes(entry), `${entry} stays out of the build context`);
});
