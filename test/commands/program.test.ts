import { CommanderError } from 'commander';
import t from 'tap';
import { buildCli } from '../../src/commands/program.js';

function parse(args: string[]) {
  const program = buildCli();
  let errors = '';
  for (const command of [program, ...program.commands]) {
    command.configureOutput({ writeErr: (s) => (errors += s), writeOut: () => undefined }).exitOverride();
  }
  return { run: program.parseAsync(['node', 'autostash', ...args]), errors: () => errors };
}

const usageErrors: Array<[string, string[], RegExp]> = [
  ['unknown command', ['backup-everything'], /unknown command 'backup-everything'/],
  ['validate without -f', ['validate'], /required option '-f, --filename <path>' not specified/],
  ['crds without --out', ['crds'], /required option '--out <dir>' not specified/],
  ['certs with a bad --days', ['certs', '--days', '0'], /must be a whole number of days from 1 to 3650/],
  ['serve with an unknown flag', ['serve', '--colour'], /unknown option '--colour'/],
];
for (const [name, args, message] of usageErrors) {
  t.test(name, async (t) => {
    const { run, errors } = parse(args);
    await t.rejects(run, CommanderError);
    t.match(errors(), message);
  });
}

t.test('the command tree names every subcommand', async (t) => {
  t.same(buildCli().commands.map((c) => c.name()), ['serve', 'validate', 'render', 'certs', 'trigger', 'status', 'exec', 'crds', 'manifests']);
});
