/**
 * A cookie secret shared by two DTLS server sockets (two instances behind one load balancer): the cookie that
 * server A put in its HelloVerifyRequest lets the client's second ClientHello complete at server B
 * (RFC 6347 4.2.1). A relay on loopback plays the load balancer that sends the client's first flight to A and
 * every later datagram to B, from one source address and port, as a balancer without affinity would.
 */
import * as assert from 'assert';
import { closeClient, connectClient, FirstFlightRelay as Relay, KEY, roundTrip, startServer, waitFor, type TestServer } from './support';
import { DtlsError } from '../../../lib/dtls';

describe('DTLS shared cookie secret', () => {
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  let relay: Relay | undefined;

  afterEach(async () => {
    relay?.close();
    await Promise.all([a?.close(), b?.close()]);
    a = b = relay = undefined;
  });

  async function servers(secretA?: string, secretB?: string): Promise<number> {
    a = await startServer(secretA ? { cookieSecret: secretA } : {});
    b = await startServer(secretB ? { cookieSecret: secretB } : {});
    b.socket.on('message', (msg, rinfo) => b!.socket.send(Buffer.concat([Buffer.from('B:'), msg]), rinfo.port, rinfo.address));
    relay = new Relay(a.port, b.port);
    return relay.start();
  }

  /** Server B's answer to the ClientHello that carries A's cookie. node-dtls-client does not take a second
   * HelloVerifyRequest, so a refused cookie ends its handshake (a timeout, which is not awaited). */
  async function answerOfB(port: number): Promise<{ server: 'A' | 'B'; type: number | undefined }> {
    connectClient(port, 'dev1', KEY, 'TLS_PSK_WITH_AES_128_CCM_8', 1000).then(closeClient, () => undefined);
    await waitFor(() => relay!.answers.some((x) => x.server === 'B'), 3000, 'an answer from server B');
    return relay!.answers.find((x) => x.server === 'B')!;
  }

  it('completes at server B a handshake whose cookie server A made, when both hold the same secret', async () => {
    const client = await connectClient(await servers('one secret for the whole farm', 'one secret for the whole farm'), 'dev1', KEY);
    const echoed = await roundTrip(client, Buffer.from('hello')).finally(() => closeClient(client));
    assert.equal(echoed.toString(), 'B:hello');
    assert.deepEqual(relay!.answers[0], { server: 'A', type: 3 }, 'A answered the first ClientHello with a HelloVerifyRequest');
    assert.deepEqual(relay!.answers[1], { server: 'B', type: 2 }, "B took A's cookie and answered with its ServerHello");
    const sa = a!.socket.stats();
    const sb = b!.socket.stats();
    assert.equal(sa.helloVerifyRequests, 1);
    assert.equal(sa.handshakesStarted, 0, 'A kept no state');
    assert.equal(sb.helloVerifyRequests, 0, 'B needed no cookie exchange of its own');
    assert.equal(sb.handshakesCompleted, 1);
  });

  it("makes server B refuse server A's cookie (a new HelloVerifyRequest) when each has its own secret", async () => {
    const answer = await answerOfB(await servers());
    assert.deepEqual(relay!.answers[0], { server: 'A', type: 3 });
    assert.equal(answer.type, 3, "B refused A's cookie with a HelloVerifyRequest of its own");
    assert.equal(b!.socket.stats().helloVerifyRequests, 1);
    assert.equal(b!.socket.stats().handshakesStarted, 0);
  });

  it("makes server B refuse server A's cookie when their shared secrets differ", async () => {
    const answer = await answerOfB(await servers('the secret of instance A', 'the secret of instance B'));
    assert.equal(answer.type, 3);
    assert.equal(b!.socket.stats().handshakesStarted, 0);
  });

  it('accepts a Buffer secret and refuses one shorter than 16 bytes without showing it', async () => {
    a = await startServer({ cookieSecret: Buffer.alloc(16, 7) });
    await assert.rejects(
      startServer({ cookieSecret: 'short-secret' }),
      (err: unknown) => err instanceof DtlsError && err.dtlsCode === 'DTLS_ARGUMENT' && /16 to 1024 bytes, got 12/.test(err.message) && !err.message.includes('short-secret'),
    );
  });
});
