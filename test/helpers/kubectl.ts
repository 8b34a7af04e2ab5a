import { execFile, execFileSync } from 'node:child_process';

/** Whether kubectl is on PATH; tests that need it skip with this reason otherwise. */
export const kubectlMissing: string | false = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'kubectl is not on PATH: install it to run the kubectl end-to-end tests';
  }
})();

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against `kubeconfig` with a private discovery cache; never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, cacheDir: string, args: readonly string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, '--request-timeout', '20s', ...args],
      { timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cacheDir } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}
