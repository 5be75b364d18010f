// Child process of http-load.ts: receives one HttpLoadRequest over IPC, runs autocannon
// (warm-up, then the measured run), sends back one HttpLoadReply and exits. Latencies come
// from per-response timings, not autocannon's histogram (1 ms resolution, no p95).
import autocannon, { type Options } from 'autocannon';
import type { HttpLoadReply, HttpLoadRequest } from './http-load.js';

type Run = Omit<Extract<HttpLoadReply, { ok: true }>, 'ok'>;

function run(options: Options): Promise<Run> {
  return new Promise((resolve, reject) => {
    const latenciesMs: number[] = [];
    let started = performance.now();
    const instance = autocannon(options, (err, result) => {
      if (err) return reject(err);
      const statusCounts = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
      resolve({
        latenciesMs,
        seconds: (performance.now() - started) / 1000,
        statusCounts,
        errors: result.errors,
        timeouts: result.timeouts,
      });
    });
    instance.on('start', () => {
      started = performance.now();
    });
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
      latenciesMs.push(responseTimeMs);
    });
  });
}

process.once('message', async (message) => {
  const request = message as HttpLoadRequest;
  let reply: HttpLoadReply;
  try {
    if (request.warmupS > 0) await run({ ...request.target, duration: request.warmupS });
    reply = { ok: true, ...(await run({ ...request.target, duration: request.durationS })) };
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  process.send?.(reply, () => process.disconnect());
});
