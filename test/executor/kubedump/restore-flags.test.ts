import t from 'tap';
import { execCommand, kubedumpRestoreParams } from '../../../src/commands/exec.js';

t.test('kubedump restore flags become SPEC §11 parameters', async (t) => {
  const rows: Array<[string, Parameters<typeof kubedumpRestoreParams>[0], Record<string, string> | undefined]> = [
    ['no kubedump flag: a file restore', {}, undefined],
    ['a filter flag alone', { includeNamespaces: 'shop' }, { IncludeNamespaces: 'shop' }],
    ['a restore-only flag alone', { overrideResources: 'true' }, { OverrideResources: 'true' }],
    ['empty values (as the Function passes them) still mean kubedump', { restorePvs: '', storageClassMappings: '' }, { StorageClassMappings: '', RestorePVs: '' }],
    [
      'every flag',
      {
        andLabelSelectors: 'a:b',
        orLabelSelectors: 'c',
        includeClusterResources: 'true',
        includeNamespaces: 'x',
        excludeNamespaces: 'y',
        includeResources: 'secrets',
        excludeResources: 'pods',
        overrideResources: 'false',
        storageClassMappings: 'a=b',
        restorePvs: 'true',
      },
      {
        ANDedLabelSelectors: 'a:b',
        ORedLabelSelectors: 'c',
        IncludeClusterResources: 'true',
        IncludeNamespaces: 'x',
        ExcludeNamespaces: 'y',
        IncludeResources: 'secrets',
        ExcludeResources: 'pods',
        OverrideResources: 'false',
        StorageClassMappings: 'a=b',
        RestorePVs: 'true',
      },
    ],
  ];
  for (const [name, flags, expected] of rows) t.same(kubedumpRestoreParams(flags), expected, name);
});

t.test('exec restore declares the kubedump restore flags', async (t) => {
  const restore = execCommand().commands.find((c) => c.name() === 'restore');
  const flags = restore?.options.map((o) => o.long) ?? [];
  for (const flag of ['--override-resources', '--storage-class-mappings', '--restore-pvs', '--include-namespaces', '--exclude-resources', '--and-label-selectors']) {
    t.ok(flags.includes(flag), flag);
  }
});
