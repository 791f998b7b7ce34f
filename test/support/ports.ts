/** Free TCP ports for servers a test starts as child processes (which cannot report a port 0 gave them). */
import { createServer } from 'node:net';

function tryListen(port: number, host?: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, host, () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(got));
    });
  });
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const port = await tryListen(0);
  if (port === null) throw new Error('no free TCP port');
  return port;
}

/** The first of two consecutive free ports (the playground's two clients take `port` and `port + 1`). */
export async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    if (port < 65535 && (await tryListen(port + 1)) !== null) return port;
  }
  throw new Error('no two consecutive free TCP ports');
}
