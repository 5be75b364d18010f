// Prometheus metrics of the real-time hub, on the app's registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type TransportKind = 'ws' | 'sse';

/** Why a connection ended, as counted by taskflow_realtime_disconnects_total. */
export type DisconnectReason =
  | 'client'
  | 'slow_consumer'
  | 'dead'
  | 'token_expired'
  | 'token_revoked'
  | 'shutdown'
  | 'rate_limited'
  | 'auth_failed'
  | 'too_many_connections'
  | 'error';

export interface RealtimeMetrics {
  framesSent: Counter<'transport' | 'type'>;
  disconnects: Counter<'transport' | 'reason'>;
  /** occurred_at → handed to the socket, per live event and user. */
  deliveryDelay: Histogram;
}

export function createRealtimeMetrics(registry: Registry, connections: () => Record<TransportKind, number>): RealtimeMetrics {
  new Gauge({
    name: 'taskflow_realtime_connections',
    help: 'Open real-time connections (authenticated) by transport',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect() {
      for (const [transport, n] of Object.entries(connections())) this.set({ transport }, n);
    },
  });
  return {
    framesSent: new Counter({
      name: 'taskflow_realtime_frames_sent_total',
      help: 'Frames sent to real-time clients, by transport and frame type (event, reminder, ready, ...)',
      labelNames: ['transport', 'type'] as const,
      registers: [registry],
    }),
    disconnects: new Counter({
      name: 'taskflow_realtime_disconnects_total',
      help: 'Real-time connections ended, by reason (slow_consumer = send buffer over REALTIME_MAX_BUFFERED_BYTES)',
      labelNames: ['transport', 'reason'] as const,
      registers: [registry],
    }),
    deliveryDelay: new Histogram({
      name: 'taskflow_realtime_delivery_delay_seconds',
      help: "Live events: occurred_at to the frame's hand-off to the user's sockets",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
