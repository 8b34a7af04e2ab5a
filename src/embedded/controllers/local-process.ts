import { spawn } from 'node:child_process';
import type { BoundedLog } from './bounded-log.js';

export interface ProcessOutcome {
  /** Exit code, or undefined when killed by a signal or never started. */
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** Why the process could not start (e.g. the command does not exist). */
  startError?: string;
}

export interface LocalProcessOptions {
  executable: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  log: BoundedLog;
  /** Time between SIGTERM and SIGKILL when terminated. Default 2 s (kubelet's grace is longer; jobs here are local). */
  killGraceMs?: number;
}

export interface LocalProcess {
  readonly pid: number | undefined;
  /** Settles when the process and everything it started are gone. Never rejects. */
  readonly done: Promise<ProcessOutcome>;
  /** SIGTERM to the process group, SIGKILL after the grace period. Safe to call repeatedly. */
  terminate(): void;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Starts a command as its own process group (so a shell's children die with it, as processes in a
 * container do), with stdin closed and stdout+stderr into `log`. When the main process exits, any
 * process it left behind in its group is killed, like a container's when its init process ends.
 */
export function startLocalProcess(options: LocalProcessOptions): LocalProcess {
  const child = spawn(options.executable, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  let killTimer: NodeJS.Timeout | undefined;
  let exited = false;

  child.stdout?.on('data', (chunk: Buffer) => options.log.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => options.log.write(chunk));

  const done = new Promise<ProcessOutcome>((resolve) => {
    let outcome: ProcessOutcome | undefined;
    child.once('error', (error) => {
      exited = true;
      if (killTimer) clearTimeout(killTimer);
      options.log.write(`${error.message}\n`);
      resolve({ exitCode: undefined, signal: undefined, startError: error.message });
    });
    child.once('exit', (code, signal) => {
      exited = true;
      outcome = { exitCode: code ?? undefined, signal: signal ?? undefined };
      signalGroup(pid, 'SIGKILL');
    });
    child.once('close', () => {
      if (killTimer) clearTimeout(killTimer);
      if (outcome) resolve(outcome);
    });
  });

  return {
    pid,
    done,
    terminate() {
      if (exited || killTimer) return;
      signalGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), options.killGraceMs ?? 2000);
      killTimer.unref();
    },
  };
}
