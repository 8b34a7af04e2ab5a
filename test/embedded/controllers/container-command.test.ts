import t from 'tap';
import { containerCommandLine, expandVariables, rewriteMountedPath } from '../../../src/embedded/controllers/container-command.js';

t.test('expandVariables follows the kubelet rules', async (t) => {
  const env: Record<string, string> = { NAME: 'world', EMPTY: '' };
  const rows: Array<[string, string]> = [
    ['hello $(NAME)', 'hello world'],
    ['$(NAME)$(NAME)', 'worldworld'],
    ['$(MISSING) stays', '$(MISSING) stays'],
    ['$$(NAME) is escaped', '$(NAME) is escaped'],
    ['cost: $$5', 'cost: $5'],
    ['a lone $ sign', 'a lone $ sign'],
    ['trailing $', 'trailing $'],
    ['unclosed $(NAME', 'unclosed $(NAME'],
    ['empty [$(EMPTY)]', 'empty []'],
    ['$NAME is not a reference', '$NAME is not a reference'],
  ];
  for (const [input, expected] of rows) t.equal(expandVariables(input, (name) => env[name]), expected, input);
});

t.test('rewriteMountedPath maps paths at or under a mount path, longest mount first', async (t) => {
  const map = { '/data': '/host/pv', '/data/cache': '/host/cache', '/': '/host/root' };
  const rows: Array<[string, string]> = [
    ['/data', '/host/pv'],
    ['/data/', '/host/pv/'],
    ['/data/file.txt', '/host/pv/file.txt'],
    ['/data/cache/x', '/host/cache/x'],
    ['/database', '/host/root/database'],
    ['/', '/host/root'],
    ['relative/data', 'relative/data'],
    ['--path=/data/x', '--path=/data/x'],
  ];
  for (const [input, expected] of rows) t.equal(rewriteMountedPath(input, map), expected, input);
  t.equal(rewriteMountedPath('/data/x', {}), '/data/x', 'no mounts, no change');
  t.equal(rewriteMountedPath('/data/x', { '/data': '/host/' }), '/host/x', 'host path with a trailing slash');
});

t.test('containerCommandLine: command then args, expanded then rewritten', async (t) => {
  const line = containerCommandLine({ command: ['sh', '-c'], args: ['echo $(GREETING)', '/data/$(FILE)'] }, { GREETING: 'hi', FILE: 'out' }, { '/data': '/h' }, undefined);
  t.same(line, { executable: 'sh', args: ['-c', 'echo hi', '/h/out'] });
});

t.test('containerCommandLine: args alone name the program (there is no image entrypoint)', async (t) => {
  t.same(containerCommandLine({ args: ['echo', 'x'] }, {}, {}, undefined), { executable: 'echo', args: ['x'] });
});

t.test('containerCommandLine: autostash runs the configured CLI', async (t) => {
  t.same(containerCommandLine({ command: ['autostash', 'exec', 'backup'] }, {}, {}, ['/usr/bin/node', '/app/cli.js']), {
    executable: '/usr/bin/node',
    args: ['/app/cli.js', 'exec', 'backup'],
  });
  t.same(containerCommandLine({ command: ['autostash'] }, {}, {}, undefined), { executable: 'autostash', args: [] }, 'without a CLI command it is looked up on PATH');
});

t.test('containerCommandLine: nothing to run is an error that says what to do', async (t) => {
  t.throws(() => containerCommandLine({ name: 'main' }, {}, {}, undefined), /container main has no command: .*set command/);
  t.throws(() => containerCommandLine({ command: [''] }, {}, {}, undefined), /has no command/);
});
