/** The top-level shape shared by every kind: apiVersion, kind, metadata, spec and (optionally) status. */
import { Type, type TObject, type TOptional, type TString, type TUnsafe } from '@sinclair/typebox';
import type { ObjectMeta } from '../domain/kube-object.js';

/** `metadata` is validated by the API server itself; the CRD only says it is an object. */
const metadataSchema = () => Type.Unsafe<ObjectMeta>({ type: 'object' });

type KindRoot<Spec extends TObject, Status extends TObject | undefined> = TObject<
  {
    apiVersion: TOptional<TString>;
    kind: TOptional<TString>;
    metadata: TOptional<TUnsafe<ObjectMeta>>;
    spec: TOptional<Spec>;
  } & (Status extends TObject ? { status: TOptional<Status> } : unknown)
>;

/** Root schema of a kind with the given spec and, when the kind has one, status. */
export function kindObject<Spec extends TObject, Status extends TObject | undefined = undefined>(
  spec: Spec,
  status?: Status,
): KindRoot<Spec, Status> {
  const properties: Record<string, unknown> = {
    apiVersion: Type.Optional(Type.String()),
    kind: Type.Optional(Type.String()),
    metadata: Type.Optional(metadataSchema()),
    spec: Type.Optional(spec),
  };
  if (status !== undefined) properties['status'] = Type.Optional(status);
  return Type.Object(properties as never) as unknown as KindRoot<Spec, Status>;
}
