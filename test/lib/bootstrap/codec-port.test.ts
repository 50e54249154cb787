import assert from 'node:assert/strict';
import { bootstrapDiscoverInfo } from '../../../lib/codec';
import { clearDiscoverMemo, readDiscover } from '../../../lib/bootstrap/codec-port';

describe('bootstrap codec port: readDiscover', () => {
  beforeEach(() => clearDiscoverMemo());

  const text = '</>;lwm2m=1.1,</0/0>;ssid=1,</0/1>,</1/0>;ssid=1,</3/0>';

  it('reads what bootstrapDiscoverInfo reads, frozen to the last array', () => {
    const info = readDiscover(Buffer.from(text));
    assert.deepEqual(info, bootstrapDiscoverInfo(text));
    assert.ok(Object.isFrozen(info) && Object.isFrozen(info.objects) && Object.isFrozen(info.objects[0].instances));
    assert.ok(Object.isFrozen(info.securityInstances[0]));
    assert.throws(() => (info.objects as unknown[]).push({ id: 9, instances: [] }), TypeError);
  });

  it('gives the same answer object for the same bytes, even after the datagram buffer is reused', () => {
    const datagram = Buffer.from('xx' + text);
    const first = readDiscover(datagram.subarray(2));
    datagram.fill(0x20); // the socket's buffer is overwritten: the memo kept its own copy
    assert.equal(readDiscover(Buffer.from(text)), first);
    assert.deepEqual(readDiscover(Buffer.from(text)), bootstrapDiscoverInfo(text));
  });

  it('keeps different payloads apart, and a 1.0 answer keeps its version', () => {
    const a = readDiscover(Buffer.from(text));
    const b = readDiscover(Buffer.from('</>;lwm2m=1.1,</0/2>,</3/0>'));
    assert.notEqual(a, b);
    assert.equal(b.bootstrapAccountInstanceId, 2);
    assert.equal(readDiscover(Buffer.from('lwm2m="1.0",</0/1>,</3/0>')).lwm2mVersion, '1.0');
    // More payloads than the memo holds: each still reads right.
    for (let i = 0; i < 20; i++) assert.equal(readDiscover(Buffer.from(`</>;lwm2m=1.1,</0/${i}>`)).bootstrapAccountInstanceId, i);
    assert.deepEqual(readDiscover(Buffer.from(text)), a);
  });

  it('a payload that does not read throws each time, and is not remembered', () => {
    const bad = Buffer.from('</0/1>;uri="coap://x,</1>');
    assert.throws(() => readDiscover(bad), /unterminated quoted string/);
    assert.throws(() => readDiscover(bad), /unterminated quoted string/);
  });
});
