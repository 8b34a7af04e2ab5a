import t from 'tap';
import { hasBearerToken } from '../../../src/embedded/http/bearer-auth.js';

const token = 'abc123-_XYZ';
const rows: [string | undefined, boolean][] = [
  [`Bearer ${token}`, true],
  [`bearer ${token}`, true],
  [`Bearer   ${token}  `, true],
  [undefined, false],
  ['', false],
  [`Basic ${token}`, false],
  ['Bearer ', false],
  [`Bearer ${token}x`, false],
  [`Bearer ${token.slice(1)}`, false],
  [`Bearer ${token} extra`, false],
];
for (const [header, expected] of rows) t.equal(hasBearerToken(header, token), expected, String(header));
