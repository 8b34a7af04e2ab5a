import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from a clean clone; ../shared sits beside it). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The read-only shared folder with KubeStash CRDs, examples and AdmissionReview samples. */
export const sharedDir = resolve(repoRoot, '..', 'shared');
