import t from 'tap';
import { mutate, validate } from '../../src/admission/handler.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { emptyClusterView } from '../../src/domain/cluster-view.js';
import type { KindRules } from '../../src/domain/kind-rules.js';
import type { KubeObject } from '../../src/domain/kube-object.js';

/** Records the namespace the rules saw and defaults one field, so the patch can be inspected. */
function recordingRules(seen: Array<string | undefined>): KindRules {
  return {
    applyDefaults(object: KubeObject) {
      seen.push(object.metadata?.namespace);
      return { ...object, spec: { defaulted: true } };
    },
    validate(context) {
      seen.push(context.object.metadata?.namespace);
      return { errors: [], warnings: [] };
    },
  };
}

const request = (object: KubeObject, namespace: string | undefined): AdmissionRequest => ({
  uid: 'u',
  kind: { group: 'example.com', version: 'v1', kind: 'Thing' },
  operation: 'CREATE',
  ...(namespace === undefined ? {} : { namespace }),
  object,
  dryRun: false,
});

t.test("the rules see the request's namespace when the object leaves it out; the patch does not add it", async (t) => {
  const seen: Array<string | undefined> = [];
  const deps = { rules: new Map([['example.com/Thing', recordingRules(seen)]]), view: emptyClusterView };
  const object = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'a' } };
  const mutated = mutate(request(object, 'team-a'), deps);
  const patch = JSON.parse(Buffer.from(mutated.response.patch ?? '', 'base64').toString('utf8'));
  t.same(patch, [{ op: 'add', path: '/spec', value: { defaulted: true } }]);
  validate(request(object, 'team-a'), deps);
  t.same(seen, ['team-a', 'team-a', 'team-a']);
});

t.test('a namespace in the object wins; cluster-scoped requests stay without one', async (t) => {
  const seen: Array<string | undefined> = [];
  const deps = { rules: new Map([['example.com/Thing', recordingRules(seen)]]), view: emptyClusterView };
  validate(request({ metadata: { name: 'a', namespace: 'own' } }, 'team-a'), deps);
  validate(request({ metadata: { name: 'a' } }, undefined), deps);
  t.same(seen, ['own', 'own', undefined, undefined]);
});
