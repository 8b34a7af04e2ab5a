// The CRDs committed in the chart are exactly what src/api renders. UPDATE_CRDS=1 rewrites them.
import t from 'tap';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allKinds, crdFor, renderCrdFiles } from '../../src/api/crd.js';
import { repoRoot } from '../helpers/paths.js';

const crdDir = join(repoRoot, 'charts', 'autostash', 'crds');
const rendered = renderCrdFiles();

if (process.env['UPDATE_CRDS'] === '1') {
  mkdirSync(crdDir, { recursive: true });
  for (const name of readdirSync(crdDir)) if (name.endsWith('.yaml')) rmSync(join(crdDir, name));
  for (const file of rendered) writeFileSync(join(crdDir, file.fileName), file.yaml);
  t.comment(`rewrote ${rendered.length} CRDs in ${crdDir}`);
}

t.test('charts/autostash/crds holds exactly the rendered CRDs', async (t) => {
  const committed = readdirSync(crdDir).filter((name) => name.endsWith('.yaml')).sort();
  t.same(committed, rendered.map((f) => f.fileName).sort(), 'same file set (run npm run crds)');
  for (const file of rendered) {
    let onDisk = '';
    try {
      onDisk = readFileSync(join(crdDir, file.fileName), 'utf8');
    } catch {
      // reported by the file-set assertion above
    }
    t.ok(onDisk === file.yaml, `${file.fileName} is up to date (run npm run crds)`);
  }
});

t.test('rendering is deterministic and parses back to crdFor()', async (t) => {
  t.same(renderCrdFiles(), rendered, 'two renders are identical');
  t.equal(rendered.length, allKinds.length, 'one file per kind (KubeStash and autostash kinds)');
  for (const [index, info] of allKinds.entries()) {
    const file = rendered[index]!;
    t.equal(file.fileName, `${info.group}_${info.plural}.yaml`);
    t.same(parse(file.yaml), crdFor(info), `${info.kind} YAML round-trips`);
    t.notMatch(file.yaml, /x-autostash/, `${info.kind}: no internal markers in the CRD`);
  }
});
