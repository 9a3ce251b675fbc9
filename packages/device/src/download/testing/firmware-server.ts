/**
 * A real HTTP firmware server for the downloader's tests (node:http on 127.0.0.1, port 0), with switches for
 * the ways real servers and networks misbehave. Excluded from the build (`src/**\/testing/**`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the server treats one request. Queue them with `next()`; requests past the queue are served normally. */
export interface Behaviour {
  /** Answer with this status and a JSON error instead of the file (403, 404, 500…). */
  status?: number;
  /** Serve the whole file with 200 whatever the Range says (a server without range support). */
  ignoreRange?: boolean;
  /** Send this many body bytes, then destroy the socket. */
  dropAfterBytes?: number;
  /** Send this many body bytes, then go silent with the connection open. */
  stallAfterBytes?: number;
  /** Flip one byte in the middle of the file. */
  corrupt?: boolean;
  /** Leave out Content-Length (chunked transfer). */
  chunked?: boolean;
}

/** What the server saw and did, for assertions from the server side. */
export interface ServedRequest {
  path: string;
  /** Path and query, as requested. */
  url: string;
  range: string | undefined;
  acceptEncoding: string | undefined;
  status: number;
  /** Body bytes handed to the socket. */
  bytesServed: number;
}

export interface FirmwareServer {
  /** Makes `bytes` downloadable; every call returns a freshly "signed" URL, as the real server does per push. */
  url(name: string, bytes?: Uint8Array): string;
  next(...behaviours: Behaviour[]): void;
  readonly requests: ServedRequest[];
  /** Total body bytes served for one file. */
  bytesServed(name: string): number;
  /** Connections open right now: a client that gives up must close its own. */
  openConnections(): number;
  close(): Promise<void>;
}

const CHUNK = 16 * 1024;

export async function startFirmwareServer(): Promise<FirmwareServer> {
  const files = new Map<string, Uint8Array>();
  const queue: Behaviour[] = [];
  const requests: ServedRequest[] = [];
  let signatures = 0;

  const server: Server = createServer((req, res) => {
    const behaviour = queue.shift() ?? {};
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const record: ServedRequest = {
      path,
      url: req.url ?? '/',
      range: req.headers.range,
      acceptEncoding: req.headers['accept-encoding'],
      status: 0,
      bytesServed: 0,
    };
    requests.push(record);
    serve(req, res, files.get(path.replace(/^\/fw\//, '')), behaviour, record);
  });
  let open = 0;
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url(name, bytes) {
      if (bytes !== undefined) files.set(name, bytes);
      signatures++;
      return `http://127.0.0.1:${port}/fw/${name}?expires=9999999999&sig=${signatures}`;
    },
    next(...behaviours) {
      queue.push(...behaviours);
    },
    requests,
    bytesServed: (name) =>
      requests.filter((r) => r.path === `/fw/${name}`).reduce((sum, r) => sum + r.bytesServed, 0),
    openConnections: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serve(
  req: IncomingMessage,
  res: ServerResponse,
  file: Uint8Array | undefined,
  behaviour: Behaviour,
  record: ServedRequest,
): void {
  const answer = (status: number, headers: Record<string, string | number>): void => {
    record.status = status;
    res.writeHead(status, headers);
  };
  if (behaviour.status !== undefined || file === undefined) {
    const status = behaviour.status ?? 404;
    answer(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: `HTTP_${status}` }));
    return;
  }
  let content = file;
  if (behaviour.corrupt === true) {
    content = Uint8Array.from(file);
    const middle = Math.floor(content.length / 2);
    content[middle] = (content[middle] ?? 0) ^ 0xff;
  }

  const size = content.length;
  const range = behaviour.ignoreRange === true ? undefined : parseRange(req.headers.range);
  let start = 0;
  let end = size - 1;
  const headers: Record<string, string | number> = {
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
  };
  if (range !== undefined) {
    if (range.start >= size) {
      answer(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    start = range.start;
    end = Math.min(range.end ?? size - 1, size - 1); // clamp, as Tencent's `bytes=N-<file_size>` needs
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  if (behaviour.chunked !== true) headers['content-length'] = end - start + 1;
  answer(range === undefined ? 200 : 206, headers);

  const limit = behaviour.dropAfterBytes ?? behaviour.stallAfterBytes ?? Number.POSITIVE_INFINITY;
  const drop = (): void => {
    res.socket?.destroy();
  };
  let position = start;
  const pump = (): void => {
    while (position <= end) {
      const budget = limit - record.bytesServed;
      if (budget <= 0) {
        if (behaviour.dropAfterBytes !== undefined) drop();
        return; // stall: keep the socket open and silent
      }
      const chunk = content.subarray(position, Math.min(end + 1, position + CHUNK, position + budget));
      position += chunk.length;
      record.bytesServed += chunk.length;
      if (record.bytesServed >= limit) {
        // Drop only once the bytes reached the kernel, as a connection dying mid-transfer would deliver them.
        res.write(chunk, behaviour.dropAfterBytes === undefined ? undefined : drop);
        return;
      }
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function parseRange(header: string | undefined): { start: number; end?: number } | undefined {
  const match = header === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(header);
  if (match === null) return undefined;
  const [, start, end] = match;
  return end === undefined || end === ''
    ? { start: Number(start) }
    : { start: Number(start), end: Number(end) };
}
