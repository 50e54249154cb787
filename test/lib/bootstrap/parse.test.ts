/**
 * Our datagram parser (one pass, no coap-packet) reads every datagram as the strict checks of RFC 7252 §3 plus
 * coap-packet's parse read it before, and rejects the same datagrams with the same reason.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { generate, parse, type ParsedPacket } from 'coap-packet';
import { DatagramScan, codeString, packetOf, parseDatagram, payloadOf, scanDatagram, uintOption } from '../../../lib/bootstrap/coap/message';

/** The parser as it was: RFC 7252 §3 checks in front of coap-packet's parse. */
function reference(buf: Buffer): ParsedPacket {
  if (buf.length < 4) throw new Error(`datagram of ${buf.length} bytes is shorter than a CoAP header`);
  const b0 = buf[0];
  if (b0 >> 6 !== 1) throw new Error(`CoAP version ${b0 >> 6} is not 1`);
  const tkl = b0 & 0x0f;
  if (tkl > 8) throw new Error(`token length ${tkl} is reserved`);
  if (buf.length < 4 + tkl) throw new Error('datagram ends inside the token');
  if (buf[1] === 0 && buf.length !== 4) throw new Error('Empty messages must be empty (4 bytes, no token)');
  const at = (i: number): number => {
    if (i >= buf.length) throw new Error('an option header runs past the end of the datagram');
    return buf[i];
  };
  let i = 4 + tkl;
  while (i < buf.length) {
    const b = buf[i++];
    if (b === 0xff) {
      if (i === buf.length) throw new Error('payload marker without payload');
      break;
    }
    let delta = b >> 4;
    let len = b & 0x0f;
    if (delta === 15) throw new Error('option delta nibble 15 is reserved');
    if (len === 15) throw new Error('option length nibble 15 is reserved');
    if (delta === 13) delta = at(i++) + 13;
    else if (delta === 14) {
      delta = ((at(i) << 8) | at(i + 1)) + 269;
      i += 2;
    }
    if (len === 13) len = at(i++) + 13;
    else if (len === 14) {
      len = ((at(i) << 8) | at(i + 1)) + 269;
      i += 2;
    }
    i += len;
    if (i > buf.length) throw new Error('an option runs past the end of the datagram');
  }
  return parse(buf);
}

function outcome<T>(f: () => T): { value?: T; error?: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const NAMES = ['Uri-Path', 'Uri-Query', 'Content-Format', 'Accept', 'Block1', 'Block2', 'Size1', 'ETag', 'If-Match', 11, 60, 258, 2049, 3000, 'No-Response'];

/** Well-formed datagrams as coap-packet writes them, then damaged: bytes changed, cut short or added. */
const datagram = fc
  .tuple(
    fc.record({
      code: fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 31 })).map(([c, d]) => `${c}.${String(d).padStart(2, '0')}`),
      messageId: fc.integer({ min: 0, max: 0xffff }),
      token: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
      confirmable: fc.boolean(),
      ack: fc.boolean(),
      reset: fc.boolean(),
      options: fc.array(
        fc.record({
          name: fc.constantFrom(...NAMES),
          value: fc.oneof(fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ minLength: 12, maxLength: 300 })).map((a) => Buffer.from(a)),
        }),
        { maxLength: 6 },
      ),
      payload: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: undefined }),
    }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    fc.oneof(fc.constant(-1), fc.nat()),
    fc.uint8Array({ maxLength: 4 }),
  )
  .map(([p, edits, cut, tail]) => {
    let buf: Buffer;
    try {
      buf = generate({ ...p, options: p.options.map((o) => ({ ...o })) } as never, 65535);
    } catch {
      buf = Buffer.from([0x40, 0x01, 0, 1]);
    }
    for (const [pos, byte] of edits) if (buf.length > 0) buf[pos % buf.length] = byte;
    if (cut >= 0) buf = buf.subarray(0, cut % (buf.length + 1));
    return Buffer.concat([buf, Buffer.from(tail)]);
  });

const noise = fc.uint8Array({ maxLength: 40 }).map((a) => {
  const b = Buffer.from(a);
  if (b.length > 0) b[0] = 0x40 | (b[0] & 0x3f);
  return b;
});

describe('CoAP datagram parsing without coap-packet', () => {
  it('reads what coap-packet read after the strict checks, and rejects the same datagrams with the same reason', () => {
    fc.assert(
      fc.property(fc.oneof(datagram, noise), (buf) => {
        const want = outcome(() => reference(buf));
        const got = outcome(() => parseDatagram(buf));
        assert.equal(got.error, want.error);
        if (want.value === undefined || got.value === undefined) return;
        assert.deepEqual({ ...got.value, options: got.value.options.map((o) => ({ ...o })) }, want.value);
      }),
      { numRuns: 4000 },
    );
  });

  it('scans the code, Content-Format, Block1, Block2 and payload as the parsed packet has them', () => {
    fc.assert(
      fc.property(datagram, (buf) => {
        const want = outcome(() => reference(buf)).value;
        if (want === undefined) return;
        const s = new DatagramScan();
        scanDatagram(buf, s);
        assert.equal(codeString(s.codeByte), want.code);
        assert.equal(s.messageId, want.messageId);
        assert.equal(s.tokenLength, want.token.length);
        assert.deepEqual(payloadOf(buf, s), want.payload);
        for (const [name, got] of [['Content-Format', s.contentFormat], ['Block1', s.block1], ['Block2', s.block2]] as const) {
          assert.equal(got, uintOption(want, name) ?? -1, name);
        }
      }),
      { numRuns: 4000 },
    );
  });

  it('keeps the option names coap-packet gives, numbers as strings for unregistered ones', () => {
    const buf = Buffer.from('4001000142bb00b0', 'hex'); // GET with ETag (4) bb00 and an empty Uri-Query (15)
    const s = new DatagramScan();
    scanDatagram(buf, s);
    const p = packetOf(buf, s);
    assert.deepEqual(p.options.map((o) => o.name), ['ETag', 'Uri-Query']);
    assert.deepEqual(p.options.map((o) => o.name), parse(buf).options.map((o) => o.name));
    const odd = Buffer.from('40010001d1eb07ff01', 'hex'); // option 13 + 0xeb = 248 (unregistered), value 07, payload 01
    assert.deepEqual(parseDatagram(odd).options, [{ name: '248', value: Buffer.from([7]) }]);
  });
});
