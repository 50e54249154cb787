/**
 * A flood sender in its own process (as a real attacker is): the server under test keeps its event loop, and
 * the cost of building the datagrams is not charged to it. Started by run.ts through child_process.fork with
 * `kind port total perSecond`; reports progress ({ sent }) and the end ({ done: true }) over IPC.
 */
import {
  closeSockets,
  malformedDatagram,
  mutatedDtls,
  openSockets,
  prng,
  sendPaced,
  spoofedRequest,
} from './attackers';

export type FloodKind = 'malformed' | 'dtls' | 'spoofed';

async function main(): Promise<void> {
  const [kind, portText, totalText, rateText] = process.argv.slice(2) as [FloodKind, string, string, string];
  const port = Number(portText);
  const total = Number(totalText);
  const rate = Number(rateText);
  const socks = [];
  let make: (i: number) => Buffer;
  if (kind === 'spoofed') {
    socks.push(...(await openSockets('127.0.0.1', 100)));
    for (let k = 2; k <= 51; k++) socks.push(...(await openSockets(`127.0.0.${k}`, 2)));
    make = spoofedRequest;
  } else {
    socks.push(...(await openSockets('127.0.0.3', 10)));
    const rnd = prng(kind === 'dtls' ? 34 : 12);
    make = kind === 'dtls' ? (i) => mutatedDtls(i, rnd) : (i) => malformedDatagram(i, rnd);
  }
  let last = 0;
  await sendPaced(socks, port, total, make, rate, (sent) => {
    if (sent - last >= total / 20 || sent === total) {
      last = sent;
      process.send?.({ sent });
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  await closeSockets(socks);
  process.send?.({ done: true });
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`flood sender: ${String((e as Error)?.stack ?? e)}\n`);
    process.exit(2);
  },
);
