/** Free UDP ports on loopback for tests: asks the kernel (bind to 0) so parallel suites never collide. */
import * as dgram from 'dgram';

export async function nextPort(type: 'udp4' | 'udp6' = 'udp4'): Promise<number> {
  const sock = dgram.createSocket(type);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => resolve());
  });
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}
