/** Our CoAP message writer gives byte for byte what coap-packet's generate gives (which it replaces on the hot path). */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { generate, type Packet } from 'coap-packet';
import { generatePacket, generateRequest, generateWithoutOptions } from '../../../lib/bootstrap/coap/message';

const NAMES = ['Uri-Path', 'Uri-Query', 'Content-Format', 'Accept', 'Block1', 'Block2', 'Size1', 'Size2', 'ETag', 'Max-Age', 'Location-Path', 11, 60, 258, 2049, 'No-Response'];

const packet = fc.record({
  code: fc.oneof(
    fc.constantFrom('0.01', '0.02', '0.03', '0.04', '2.01', '2.02', '2.04', '2.05', '2.31', '4.00', '4.04', '4.15', '5.03', '0.00', 'GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'PATCH', 'iPATCH', 'get', 'post', 'put', 'delete', 'ipatch'),
    fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 31 })).map(([c, d]) => `${c}.${String(d).padStart(2, '0')}`),
  ),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
  confirmable: fc.boolean(),
  ack: fc.boolean(),
  reset: fc.boolean(),
  options: fc.array(
    fc.record({
      name: fc.constantFrom(...NAMES),
      value: fc.oneof(fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ minLength: 10, maxLength: 300 })).map((a) => Buffer.from(a)),
    }),
    { maxLength: 6 },
  ),
  payload: fc.option(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), { nil: undefined }),
});

function copy(p: Packet): Packet {
  return { ...p, options: p.options?.map((o) => ({ ...o })) };
}

function outcome(f: () => Buffer): { hex?: string; error?: string } {
  try {
    return { hex: f().toString('hex') };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('CoAP message writer', () => {
  it('writes what coap-packet writes, and fails where it fails (size limit)', () => {
    fc.assert(
      fc.property(packet, fc.constantFrom(64, 256, 1152), (p, max) => {
        const ours = outcome(() => generatePacket(copy(p as Packet), max));
        const theirs = outcome(() => generate(copy(p as Packet), max));
        assert.deepEqual(ours, theirs);
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves the caller\'s packet and option order as they were', () => {
    const options = [
      { name: 'Content-Format', value: Buffer.from([112]) },
      { name: 'Uri-Path', value: Buffer.from('1') },
    ];
    const p: Packet = { code: '0.03', messageId: 7, token: Buffer.from('0102', 'hex'), options, confirmable: true };
    const b = generatePacket(p, 1152);
    assert.equal(b.toString('hex'), generate({ ...p, options: [...options] }, 1152).toString('hex'));
    assert.deepEqual(options.map((o) => o.name), ['Content-Format', 'Uri-Path']);
    assert.equal(p.payload, undefined);
  });

  it('writes our requests (8-byte token as two numbers) as generatePacket writes them, options in order or not', () => {
    const request = fc.record({
      code: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', '0.01', '0.02', '0.03', '0.04', '0.05', '0.07'),
      messageId: fc.integer({ min: 0, max: 0xffff }),
      tokenRand: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      tokenKey: fc.integer({ min: 0, max: 0x7fffffff }),
      options: packet.map((p) => p.options ?? []),
      sorted: fc.boolean(),
      payload: fc.option(fc.uint8Array({ maxLength: 1100 }).map((a) => Buffer.from(a)), { nil: undefined }),
    });
    fc.assert(
      fc.property(request, fc.constantFrom(64, 256, 1152), (r, max) => {
        const options = r.sorted ? [...r.options].sort((a, b) => optionNo(a.name) - optionNo(b.name)) : r.options;
        const token = Buffer.alloc(8);
        token.writeInt32BE(r.tokenRand, 0);
        token.writeUInt32BE(r.tokenKey, 4);
        const before = options.map((o) => [o.name, o.value.toString('hex')]);
        const ours = outcome(() => generateRequest(r.code, r.messageId, r.tokenRand, r.tokenKey, options, r.payload, max));
        const theirs = outcome(() => generatePacket({ code: r.code, messageId: r.messageId, token, options: copy({ options } as Packet).options, payload: r.payload, confirmable: true }, max));
        assert.deepEqual(ours, theirs);
        assert.deepEqual(options.map((o) => [o.name, o.value.toString('hex')]), before, 'options left as they were');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('CoAP answers without options', () => {
  it('writes what generatePacket writes for a piggy-backed, separate or NON answer, and fails where it fails', () => {
    const answer = fc.record({
      code: fc.oneof(fc.constantFrom('2.04', '2.05', '4.00', '4.04', '5.03', '0.00', 'GET', '', '9.99', '2.32'), packet.map((p) => p.code as string)),
      type: fc.constantFrom(0, 1, 2),
      messageId: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(-1, 0x10000, 1.5)),
      token: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
      payload: fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { nil: undefined }),
    });
    fc.assert(
      fc.property(answer, fc.constantFrom(16, 64, 1152), (a, max) => {
        const ours = outcome(() => generateWithoutOptions(a.code, a.type, a.messageId, a.token, a.payload, max) ?? Buffer.from('not plain'));
        if (ours.hex === Buffer.from('not plain').toString('hex')) return; // left to generatePacket
        const theirs = outcome(() =>
          generatePacket({ code: a.code, messageId: a.messageId, token: a.token, options: [], payload: a.payload, confirmable: a.type === 0, ack: a.type === 2 }, max),
        );
        assert.deepEqual(ours, theirs);
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves codes generatePacket hands to coap-packet to the packet path', () => {
    assert.equal(generateWithoutOptions('0.00', 2, 1, Buffer.alloc(0), undefined, 1152), undefined);
    assert.equal(generateWithoutOptions('2.04', 2, 1, Buffer.alloc(9), undefined, 1152), undefined);
    assert.equal(generateWithoutOptions('2.04', 2, 1, Buffer.from('a1b2', 'hex'), undefined, 1152)?.toString('hex'), '62440001a1b2');
  });
});

const NUMBERS: Record<string, number> = { 'Uri-Path': 11, 'Uri-Query': 15, 'Content-Format': 12, Accept: 17, Block1: 27, Block2: 23, Size1: 60, Size2: 28, ETag: 4, 'Max-Age': 14, 'Location-Path': 8, 'No-Response': 258 };

function optionNo(name: string | number): number {
  return typeof name === 'number' ? name : NUMBERS[name];
}
