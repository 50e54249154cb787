/** CoRE link-format (40): the Bootstrap-Discover examples (OMA-TS-LightweightM2M_Core, Bootstrap Interface (Bootstrap-Discover); RFC 6690). */
import assert from 'node:assert/strict';
import { bootstrapDiscoverInfo, type DiscoverInfo, encodeLinkFormat, LINK_FORMAT, type Link, parseLinkFormat } from '../../../lib/codec';
import { assertCodecError, hex } from './support';

const fail = (message: RegExp, offset?: number, path?: string) => (e: unknown) =>
  assertCodecError(e, { format: LINK_FORMAT, message, offset, path });

describe('codec: link-format (40)', () => {
  describe('Bootstrap-Discover response', () => {
    const text = '</>;lwm2m=1.1,</0/0>;uri="coap://bs.example.com:5683",</1>,</3/0>';
    // the payload of a CoAP ACK 2.05 to Bootstrap-Discover, after the FF marker
    const payload = hex(`3C 2F 3E 3B 6C 77 6D 32 6D 3D 31 2E 31 2C 3C 2F 30 2F 30 3E 3B 75 72 69 3D 22 63 6F 61 70 3A
      2F 2F 62 73 2E 65 78 61 6D 70 6C 65 2E 63 6F 6D 3A 35 36 38 33 22 2C 3C 2F 31 3E 2C 3C 2F 33 2F 30 3E`);
    const links: Link[] = [
      { path: '/', attributes: { lwm2m: '1.1' } },
      { path: '/0/0', attributes: { uri: 'coap://bs.example.com:5683' } },
      { path: '/1', attributes: {} },
      { path: '/3/0', attributes: {} },
    ];

    it('parses the payload bytes', () => {
      assert.deepStrictEqual(parseLinkFormat(payload), { links, lwm2mVersion: '1.1' });
    });
    it('encodes the links byte for byte', () => {
      assert.equal(encodeLinkFormat(links), text);
      assert.deepStrictEqual(Buffer.from(encodeLinkFormat(links)), payload);
    });
    it('finds the BS account at /0/0 (no ssid) and the objects', () => {
      assert.deepStrictEqual(bootstrapDiscoverInfo(parseLinkFormat(payload)), {
        lwm2mVersion: '1.1',
        bootstrapAccountInstanceId: 0,
        securityInstances: [{ id: 0, uri: 'coap://bs.example.com:5683' }],
        serverInstances: [],
        objects: [
          { id: 0, instances: [0] },
          { id: 1, instances: [] },
          { id: 3, instances: [0] },
        ],
      } satisfies DiscoverInfo);
    });
  });

  describe('Bootstrap-Discover examples of the specification and of Anjay/Leshan', () => {
    const cases: [string, string, DiscoverInfo][] = [
      [
        '1.0, GET /0',
        'lwm2m="1.0",</0/0>;ssid=101,</0/1>,</0/2>;ssid=102',
        {
          lwm2mVersion: '1.0',
          bootstrapAccountInstanceId: 1,
          securityInstances: [{ id: 0, ssid: 101 }, { id: 1 }, { id: 2, ssid: 102 }],
          serverInstances: [],
          objects: [{ id: 0, instances: [0, 1, 2] }],
        },
      ],
      [
        '1.0, GET /',
        'lwm2m="1.0",</0/0>;ssid=101,</0/1>,</1/0>;ssid=101,</3/0>,</4>,</5>',
        {
          lwm2mVersion: '1.0',
          bootstrapAccountInstanceId: 1,
          securityInstances: [{ id: 0, ssid: 101 }, { id: 1 }],
          serverInstances: [{ id: 0, ssid: 101 }],
          objects: [
            { id: 0, instances: [0, 1] },
            { id: 1, instances: [0] },
            { id: 3, instances: [0] },
            { id: 4, instances: [] },
            { id: 5, instances: [] },
          ],
        },
      ],
      [
        '1.1, GET /0',
        '</>;lwm2m=1.1,</0/0>;ssid=101;uri="coaps://server_1.example.com",</0/1>,</0/2>;ssid=102;uri="coaps://server_2.example.com"',
        {
          lwm2mVersion: '1.1',
          bootstrapAccountInstanceId: 1,
          securityInstances: [
            { id: 0, ssid: 101, uri: 'coaps://server_1.example.com' },
            { id: 1 },
            { id: 2, ssid: 102, uri: 'coaps://server_2.example.com' },
          ],
          serverInstances: [],
          objects: [{ id: 0, instances: [0, 1, 2] }],
        },
      ],
      [
        '1.1 Anjay-style, BS account /0/1, one DM server',
        '</>;lwm2m=1.1,</0>,</0/1>;uri="coap://127.0.0.1:5685",</0/2>;ssid=11;uri="coap://127.0.0.1:9999",</1>,</1/42>;ssid=11,</2>,</3>,</3/0>',
        {
          lwm2mVersion: '1.1',
          bootstrapAccountInstanceId: 1,
          securityInstances: [
            { id: 1, uri: 'coap://127.0.0.1:5685' },
            { id: 2, ssid: 11, uri: 'coap://127.0.0.1:9999' },
          ],
          serverInstances: [{ id: 42, ssid: 11 }],
          objects: [
            { id: 0, instances: [1, 2] },
            { id: 1, instances: [42] },
            { id: 2, instances: [] },
            { id: 3, instances: [0] },
          ],
        },
      ],
    ];
    for (const [name, text, info] of cases) {
      it(`interprets ${name}`, () => {
        assert.deepStrictEqual(bootstrapDiscoverInfo(parseLinkFormat(text)), info);
        assert.deepStrictEqual(bootstrapDiscoverInfo(text), info, 'from the text directly');
      });
      it(`re-encodes ${name} to the same text`, () => {
        const parsed = parseLinkFormat(text);
        const links = parsed.links;
        const out = text.startsWith('lwm2m="1.0"') ? encodeLinkFormat(links, { lwm2mVersion: '1.0' }) : encodeLinkFormat(links);
        assert.equal(out, text);
      });
    }
  });

  describe('liberal parsing (what Bootstrap-Discover answers in the field look like)', () => {
    it('accepts the unquoted 1.0 form, whitespace after commas and a trailing slash', () => {
      const p = parseLinkFormat('lwm2m=1.0, </0/1/>, </1/0>;ssid=5 ,\t</3/0>');
      assert.equal(p.lwm2mVersion, '1.0');
      assert.deepStrictEqual(
        p.links.map((l) => l.path),
        ['/0/1', '/1/0', '/3/0'],
      );
      assert.equal(p.links[1].attributes.ssid, '5');
    });
    it('accepts quoted and unquoted ver, attributes in any order, unknown and valueless attributes', () => {
      const info = bootstrapDiscoverInfo('</>;lwm2m=1.2,</10>;ver="1.1",</11>;ver=1.2,</0/3>;uri="coap://x";foo=bar;ssid=7;obs,</0/4>');
      assert.deepStrictEqual(info.objects, [
        { id: 0, instances: [3, 4] },
        { id: 10, instances: [], version: '1.1' },
        { id: 11, instances: [], version: '1.2' },
      ]);
      assert.deepStrictEqual(info.securityInstances, [{ id: 3, ssid: 7, uri: 'coap://x' }, { id: 4 }]);
      assert.equal(info.bootstrapAccountInstanceId, 4);
      assert.equal(info.lwm2mVersion, '1.2');
    });
    it('unescapes \\" and \\\\ in quoted values, and escapes them on output', () => {
      const links = [{ path: '/0/2', attributes: { uri: 'coap://a"b\\c', ssid: '1' } }];
      const text = encodeLinkFormat(links);
      assert.equal(text, '</0/2>;uri="coap://a\\"b\\\\c";ssid=1');
      assert.deepStrictEqual(parseLinkFormat(text).links, links);
    });
    it('keeps commas and semicolons inside quotes', () => {
      assert.deepStrictEqual(parseLinkFormat('</0/1>;uri="coap://h/a,b;c",</1>').links, [
        { path: '/0/1', attributes: { uri: 'coap://h/a,b;c' } },
        { path: '/1', attributes: {} },
      ]);
    });
    it('reads an empty payload as no links', () => {
      assert.deepStrictEqual(parseLinkFormat(''), { links: [] });
    });
    it('ignores links that are not objects or instances (root, alternate paths, resources)', () => {
      const info = bootstrapDiscoverInfo('</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>,</3/0/1>,</3/0>');
      assert.deepStrictEqual(info.objects, [{ id: 3, instances: [0] }]);
    });
    it('leaves the BS account undefined when two Security instances lack ssid', () => {
      const info = bootstrapDiscoverInfo('</0/0>,</0/1>,</0/2>;ssid=3');
      assert.equal(info.bootstrapAccountInstanceId, undefined);
      assert.equal(info.securityInstances.length, 3);
    });
    it('writes the 1.1 enabler version as a </> link', () => {
      assert.equal(encodeLinkFormat([{ path: '/0/1', attributes: {} }], { lwm2mVersion: '1.1' }), '</>;lwm2m=1.1,</0/1>');
    });
  });

  describe('malformed input', () => {
    it('rejects an unterminated quote with its offset', () => {
      assert.throws(() => parseLinkFormat('</0/1>;uri="coap://x,</1>'), fail(/unterminated quoted string/, 25));
    });
    it('rejects a missing ">"', () => {
      assert.throws(() => parseLinkFormat('</0/1>,</1'), fail(/missing ">"/));
    });
    it('rejects a bare element that is not the lwm2m version', () => {
      assert.throws(() => parseLinkFormat('foo=1,</1>'), fail(/neither a link nor the lwm2m version/, 0));
    });
    it('rejects text after ">" that is not a parameter', () => {
      assert.throws(() => parseLinkFormat('</1>x'), fail(/unexpected text after <\/1>/, 4));
    });
    it('rejects invalid UTF-8 with its offset', () => {
      assert.throws(() => parseLinkFormat(hex('3C 2F 31 3E 3B 61 3D C3 28')), fail(/invalid UTF-8/, 7));
    });
    it('rejects an ssid that is not a number, naming the link', () => {
      assert.throws(() => bootstrapDiscoverInfo('</0/1>;ssid=abc'), fail(/ssid "abc" is not a number/, undefined, '/0/1'));
    });
    it('refuses to encode a target with ">" or an attribute name with spaces', () => {
      assert.throws(() => encodeLinkFormat([{ path: '/1>', attributes: {} }]), fail(/invalid link target/));
      assert.throws(() => encodeLinkFormat([{ path: '/1', attributes: { 'a b': 'x' } }]), fail(/invalid link attribute name/));
    });
  });
});
