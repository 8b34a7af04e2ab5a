import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: admission answers are expected within milliseconds. */
const durationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface AdmissionMetrics {
  registry: Registry;
  /** labels: webhook (mutate|validate), kind (registered Kind name, `other` or `none`), operation, result. */
  requests: Counter<'webhook' | 'kind' | 'operation' | 'result'>;
  /** labels: webhook. */
  duration: Histogram<'webhook'>;
}

/**
 * Registers the admission metrics and the default process metrics on `registry`
 * (one registry per app: tests build many apps in one process).
 */
export function createAdmissionMetrics(registry: Registry = new Registry()): AdmissionMetrics {
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'autostash_admission_requests_total',
    help: 'Admission requests answered, by webhook, kind, operation and result.',
    labelNames: ['webhook', 'kind', 'operation', 'result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'autostash_admission_duration_seconds',
    help: 'Time to answer an admission request, from parsed body to response.',
    labelNames: ['webhook'] as const,
    buckets: durationBuckets,
    registers: [registry],
  });
  return { registry, requests, duration };
}
