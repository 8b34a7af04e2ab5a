// Writes the chart's generated files (values, schema, dashboard, static template parts) from the built
// generator in dist/ (run through `npm run manifests:chart`, which builds first).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChartFiles } from '../dist/api/install/chart-files.js';

const chartDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'charts', 'autostash');
const files = renderChartFiles();
for (const [path, content] of Object.entries(files)) {
  await mkdir(dirname(join(chartDir, path)), { recursive: true });
  await writeFile(join(chartDir, path), content);
}
process.stdout.write(`wrote ${Object.keys(files).length} generated files into ${chartDir}\n`);
