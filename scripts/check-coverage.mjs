// Enforces the project's coverage floor from tap's json-summary report. tap 21 can only demand
// 100% or nothing; we choose explicit floors instead (docs/decisions/0001-test-coverage-thresholds.md).
import { readFileSync } from 'node:fs';

const floors = { lines: 98, statements: 98, functions: 98, branches: 92 };
const reportPath = new URL('../.tap/report/coverage-summary.json', import.meta.url);

let summary;
try {
  summary = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (error) {
  console.error(`coverage: cannot read ${reportPath.pathname}: ${error.message}`);
  process.exit(1);
}

const failures = [];
for (const [metric, floor] of Object.entries(floors)) {
  const pct = summary.total[metric].pct;
  if (pct < floor) failures.push(`${metric} ${pct}% is below the floor of ${floor}%`);
}
if (failures.length > 0) {
  console.error(`coverage: ${failures.join('; ')}`);
  process.exit(1);
}
console.log(`coverage: ok (${Object.keys(floors).map((m) => `${m} ${summary.total[m].pct}%`).join(', ')})`);
