// Prometheus metrics on a registry owned by the app (not prom-client's global one), so two
// apps in one process keep separate counts. Capabilities receive the Metrics object and
// register what they measure here.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly eventsAppended: Counter<'type'>;
}

export function createMetrics(poolStats: () => { total: number; idle: number; waiting: number }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'taskflow' });
  collectDefaultMetrics({ register: registry, prefix: 'taskflow_' });

  const httpRequestDuration = new Histogram({
    name: 'taskflow_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const eventsAppended = new Counter({
    name: 'taskflow_events_appended_total',
    help: 'Events appended to the event log, by type (counted at commit)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const pool = new Gauge({
    name: 'taskflow_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = poolStats();
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'waiting' }, s.waiting);
    },
  });
  void pool;
  return { registry, httpRequestDuration, eventsAppended };
}
