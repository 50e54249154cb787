import { strict as assert } from 'node:assert';
import * as dgram from 'dgram';
import {
  BootstrapServer,
  ProxyAddressTable,
  ProxyHeaderError,
  ProxyProtocolOptionError,
  ProxyProtocolSocket,
  parseProxyHeader,
  SessionOutcome,
  type BootstrapSession,
  type PeerInfo,
} from '../../../lib/bootstrap';
import { bsRequest, RawPeer } from './helpers';
import { generate } from 'coap-packet';

const V2_SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
function v2(verCmd: number, fam: number, addr: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(addr.length);
  return Buffer.concat([V2_SIG, Buffer.from([verCmd, fam]), len, addr]);
}
function inet4(src: string, dst: string, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  src.split('.').forEach((x, i) => (b[i] = Number(x)));
  dst.split('.').forEach((x, i) => (b[4 + i] = Number(x)));
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}
const from = (address: string, port: number): PeerInfo => ({ address, port, family: 'IPv4', size: 0 });

describe('PROXY protocol header parser', () => {
  it('reads what nginx 1.22 sends in front of a UDP session\'s first datagram (v1 text, TCP4)', () => {
    const h = parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 56579 38943\r\n\x40\x02', 'latin1'));
    assert.deepEqual(h, { length: 44, source: { address: '192.0.2.7', port: 56579, family: 'IPv4' }, version: 1 });
  });

  it('reads v1 TCP6 and UNKNOWN, v2 PROXY over INET and INET6, v2 LOCAL', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 5683 5684\r\n'))?.source, { address: '2001:db8::1', port: 5683, family: 'IPv6' });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\nxy')), { length: 15, source: undefined, version: 1 });
    const h4 = parseProxyHeader(Buffer.concat([v2(0x21, 0x12, inet4('198.51.100.9', '10.0.0.1', 40000, 5683)), Buffer.from([0x40])]));
    assert.deepEqual(h4, { length: 28, source: { address: '198.51.100.9', port: 40000, family: 'IPv4' }, version: 2 });
    const a6 = Buffer.alloc(36);
    a6.writeUInt16BE(0x2001, 0);
    a6.writeUInt16BE(0x0db8, 2);
    a6.writeUInt16BE(7, 14);
    a6.writeUInt16BE(1, 30);
    a6.writeUInt16BE(61000, 32);
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x22, a6))?.source, { address: '2001:db8::7', port: 61000, family: 'IPv6' });
    assert.deepEqual(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), { length: 16, source: undefined, version: 2 });
  });

  it('says "no header" for CoAP and DTLS datagrams', () => {
    assert.equal(parseProxyHeader(Buffer.from('40020001', 'hex')), undefined);
    assert.equal(parseProxyHeader(Buffer.from('16fefd0000', 'hex')), undefined);
    assert.equal(parseProxyHeader(Buffer.alloc(0)), undefined);
  });

  const malformed: [string, Buffer][] = [
    ['v1 without CRLF', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2')],
    ['v1 CRLF beyond 107 bytes', Buffer.from(`PROXY TCP4 1.2.3.4 5.6.7.8 1 2${' '.repeat(100)}\r\n`)],
    ['v1 with a field missing', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n')],
    ['v1 with an unknown protocol', Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n')],
    ['v1 TCP4 with an IPv6 address', Buffer.from('PROXY TCP4 ::1 5.6.7.8 1 2\r\n')],
    ['v1 with a port above 65535', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n')],
    ['v1 with a port with a leading zero', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n')],
    ['v1 with a control byte', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x00\r\n', 'latin1')],
    ['v2 shorter than 16 bytes', Buffer.concat([V2_SIG, Buffer.from([0x21])])],
    ['v2 version 1', v2(0x11, 0x12, inet4('1.2.3.4', '5.6.7.8', 1, 2))],
    ['v2 command 2', v2(0x22, 0x12, inet4('1.2.3.4', '5.6.7.8', 1, 2))],
    ['v2 INET with 8 address bytes', v2(0x21, 0x12, Buffer.alloc(8))],
    ['v2 INET6 with 12 address bytes', v2(0x21, 0x22, Buffer.alloc(12))],
    ['v2 length beyond the datagram', Buffer.concat([V2_SIG, Buffer.from([0x21, 0x12, 0x00, 0x40]), Buffer.alloc(12)])],
  ];
  for (const [name, buf] of malformed) {
    it(`refuses ${name} with a ProxyHeaderError`, () => {
      assert.throws(() => parseProxyHeader(buf), ProxyHeaderError);
    });
  }
});

describe('PROXY protocol address table', () => {
  it('maps the balancer socket to the device from the header on, and replies go back to that socket', () => {
    const t = new ProxyAddressTable({ from: ['127.0.0.1'] });
    const first = t.inbound(Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 50000 5683\r\nabc'), from('127.0.0.1', 40001));
    assert.deepEqual(first?.msg.toString(), 'abc');
    assert.deepEqual([first?.rinfo.address, first?.rinfo.port, first?.rinfo.size], ['192.0.2.7', 50000, 3]);
    const later = t.inbound(Buffer.from('def'), from('127.0.0.1', 40001));
    assert.deepEqual([later?.msg.toString(), later?.rinfo.address, later?.rinfo.port], ['def', '192.0.2.7', 50000]);
    assert.deepEqual(t.outbound('192.0.2.7', 50000), { address: '127.0.0.1', port: 40001 });
    assert.deepEqual(t.outbound('192.0.2.8', 50000), { address: '192.0.2.8', port: 50000 }, 'unknown: sent as it is');
    assert.deepEqual(t.stats(), { headers: 1, malformed: 0, untrusted: 0, unmapped: 0, mappings: 1 });
  });

  it('believes no header from an address not in the list: the datagram goes on untouched and is counted', () => {
    const t = new ProxyAddressTable({ from: ['10.0.0.5'] });
    const msg = Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 50000 5683\r\nabc');
    const x = t.inbound(msg, from('127.0.0.1', 40001));
    assert.equal(x?.msg, msg);
    assert.equal(x?.rinfo.address, '127.0.0.1');
    assert.deepEqual(t.stats(), { headers: 0, malformed: 0, untrusted: 1, unmapped: 0, mappings: 0 });
  });

  it('drops a malformed header from the balancer (counted), passes an unmapped datagram as the balancer\'s (counted)', () => {
    const t = new ProxyAddressTable({ from: ['127.0.0.1'] });
    assert.equal(t.inbound(Buffer.from('PROXY TCP4 nonsense\r\nabc'), from('127.0.0.1', 40001)), undefined);
    const y = t.inbound(Buffer.from('abc'), from('127.0.0.1', 40002));
    assert.deepEqual([y?.rinfo.address, y?.rinfo.port], ['127.0.0.1', 40002]);
    assert.deepEqual(t.stats(), { headers: 0, malformed: 1, untrusted: 0, unmapped: 1, mappings: 0 });
  });

  it('a new balancer socket for the same device takes over its replies; idle mappings are forgotten', () => {
    let now = 0;
    const t = new ProxyAddressTable({ from: ['127.0.0.1'], idleMs: 1000, now: () => now });
    t.inbound(Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 50000 5683\r\na'), from('127.0.0.1', 40001));
    t.inbound(Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 50000 5683\r\nb'), from('127.0.0.1', 40009));
    assert.deepEqual(t.outbound('192.0.2.7', 50000), { address: '127.0.0.1', port: 40009 });
    assert.equal(t.stats().mappings, 1);
    now = 1500;
    t.sweep();
    assert.equal(t.stats().mappings, 0);
    assert.deepEqual(t.inbound(Buffer.from('c'), from('127.0.0.1', 40009))?.rinfo.port, 40009);
  });

  it('takes an IPv4-mapped balancer address as the IPv4 one, and refuses a name that is not an IP address', () => {
    const t = new ProxyAddressTable({ from: ['127.0.0.1'] });
    const x = t.inbound(Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 50000 5683\r\na'), { address: '::ffff:127.0.0.1', port: 1, family: 'IPv6' });
    assert.equal(x?.rinfo.address, '192.0.2.7');
    assert.throws(() => new ProxyAddressTable({ from: ['balancer.example'] }), ProxyProtocolOptionError);
  });
});

describe('BootstrapServer on a ProxyProtocolSocket (loopback)', function () {
  this.timeout(10_000);

  async function serve(fromList: string[]): Promise<{ server: BootstrapServer; port: number; sock: ProxyProtocolSocket }> {
    const sock = new ProxyProtocolSocket(dgram.createSocket('udp4'), 'udp4', { from: fromList });
    const server = new BootstrapServer({ port: 0, address: '127.0.0.1', socket: sock, closeSocket: true });
    const { port } = await server.listen();
    return { server, port, sock };
  }

  it('a session behind the balancer has the device\'s address; its answers go to the balancer', async () => {
    const { server, port, sock } = await serve(['127.0.0.1']);
    const balancer = await RawPeer.create();
    try {
      const got = new Promise<BootstrapSession>((r) => server.once('bootstrapRequest', r));
      const req = generate(bsRequest('pp-1', 0x1234, Buffer.from([1, 2])));
      balancer.sendRaw(Buffer.concat([Buffer.from('PROXY TCP4 203.0.113.5 127.0.0.1 47000 5683\r\n'), req]), port);
      const s = await got;
      assert.deepEqual(s.peer, { address: '203.0.113.5', port: 47000, family: 'IPv4' });
      await s.accept();
      const ack = await balancer.next((p) => p.messageId === 0x1234);
      assert.equal(ack.code, '2.04');
      assert.equal(sock.table.stats().headers, 1);
      s.end(SessionOutcome.CANCELLED, 'test over');
    } finally {
      await balancer.close();
      await server.close();
    }
  });

  it('a header from a source not in the list is not believed: no session, the server counts a malformed datagram', async () => {
    const { server, port, sock } = await serve(['10.9.9.9']);
    const peer = await RawPeer.create();
    try {
      let sessions = 0;
      server.on('bootstrapRequest', () => sessions++);
      const req = generate(bsRequest('pp-2', 0x2222, Buffer.from([3])));
      peer.sendRaw(Buffer.concat([Buffer.from('PROXY TCP4 203.0.113.5 127.0.0.1 47000 5683\r\n'), req]), port);
      // The same request without a header still works afterwards: the server kept serving.
      const got = new Promise<BootstrapSession>((r) => server.once('bootstrapRequest', r));
      peer.send(bsRequest('pp-3', 0x3333, Buffer.from([4])), port);
      const s = await got;
      assert.equal(s.endpoint, 'pp-3');
      assert.equal(s.peer.port, peer.port, 'the real sender, not the header\'s');
      assert.equal(sessions, 1);
      assert.equal(sock.table.stats().untrusted, 1);
      assert.equal(server.stats().malformed, 1);
      await s.reject('4.04');
    } finally {
      await peer.close();
      await server.close();
    }
  });
});
