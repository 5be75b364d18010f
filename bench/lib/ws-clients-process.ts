// Child process of ws-clients.ts: holds N WebSocket clients, so that their parsing does not
// run on the server's event loop and get billed to it. On `connect` it opens them (a bounded
// number at a time), optionally subscribes each, and waits for every `ready`; from then on it
// timestamps each event frame on arrival (epoch ms, sub-ms: performance.timeOrigin + now())
// under the key `<aggregate_id>:<aggregate_version>`, which the parent matches to commits.
import { WebSocket } from 'ws';
import type { ClientsCommand, ClientsReply } from './ws-clients.js';

const sockets: WebSocket[] = [];
let deliveries: Array<[string, number]> = [];
// Cheaper than JSON.parse on every frame: the key fields of the event, in the order the server writes them.
const KEY = /"aggregate_id":"([^"]+)","aggregate_version":(\d+)/;

const reply = (message: ClientsReply) => process.send?.(message);

function open(url: string, protocols: string[] | undefined, subscribe: string | null): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
    let ready = false;
    ws.on('message', (data: Buffer) => {
      const at = performance.timeOrigin + performance.now();
      if (!ready) {
        if (data.includes('"type":"ready"')) {
          ready = true;
          resolve(ws);
        }
        return;
      }
      const match = KEY.exec(data.toString());
      if (match) deliveries.push([`${match[1]}:${match[2]}`, at]);
    });
    ws.once('open', () => subscribe && ws.send(subscribe));
    ws.once('error', reject);
    ws.once('close', (code) => ready || reject(new Error(`closed with ${code} before ready`)));
  });
}

async function connect(command: Extract<ClientsCommand, { cmd: 'connect' }>): Promise<ClientsReply> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < command.clients.length) {
      const client = command.clients[next++];
      if (!client) return;
      sockets.push(await open(client.url, client.protocols, command.subscribe));
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  return { type: 'connected', count: sockets.length, ms: performance.now() - started };
}

process.on('message', async (message: ClientsCommand) => {
  try {
    switch (message.cmd) {
      case 'connect':
        reply(await connect(message));
        break;
      case 'collect': {
        const collected = deliveries;
        deliveries = [];
        reply({ type: 'collected', deliveries: collected });
        break;
      }
      case 'close': {
        const closing = sockets.splice(0).map((ws) => new Promise((resolve) => ws.once('close', resolve).close()));
        await Promise.all(closing);
        deliveries = [];
        reply({ type: 'closed' });
        break;
      }
    }
  } catch (err) {
    reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
