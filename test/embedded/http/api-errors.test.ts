import t from 'tap';
import { ApiError } from '../../../src/embedded/api-types.js';
import { asApiError, httpErrors } from '../../../src/embedded/http/api-errors.js';
import { watchSeconds, maxWatchSeconds } from '../../../src/embedded/http/watch-stream.js';

t.test('thrown values become Status-shaped ApiErrors', async (t) => {
  const conflict = new ApiError(409, 'Conflict', 'stale');
  t.equal(asApiError(conflict), conflict);
  t.match(asApiError(new Error('boom')).toStatus(), { code: 500, reason: 'InternalError', message: 'Internal error occurred: boom' });
  t.match(asApiError('text').toStatus(), { code: 500, message: 'Internal error occurred: text' });
  const rows: [ApiError, number, string][] = [
    [httpErrors.badRequest('x'), 400, 'BadRequest'],
    [httpErrors.unauthorized(), 401, 'Unauthorized'],
    [httpErrors.notFound(), 404, 'NotFound'],
    [httpErrors.methodNotAllowed('PUT', 'x'), 405, 'MethodNotAllowed'],
    [httpErrors.notAcceptable('x'), 406, 'NotAcceptable'],
    [httpErrors.entityTooLarge(10), 413, 'RequestEntityTooLarge'],
    [httpErrors.unsupportedMediaType(''), 415, 'UnsupportedMediaType'],
    [httpErrors.internal('x'), 500, 'InternalError'],
  ];
  for (const [error, code, reason] of rows) t.match(error.toStatus(), { kind: 'Status', status: 'Failure', code, reason }, reason);
});

t.test('watch durations: default 30 to 60 minutes, clamped', async (t) => {
  for (const asked of [null, '', '0', '-3', 'soon']) {
    const seconds = watchSeconds(asked);
    t.ok(seconds >= 1800 && seconds < 3600, `${asked} -> ${seconds}`);
  }
  t.equal(watchSeconds('5'), 5);
  t.equal(watchSeconds(String(maxWatchSeconds * 10)), maxWatchSeconds);
});
