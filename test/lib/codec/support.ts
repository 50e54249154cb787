/**
 * Table-driven codec tests (after mqtt-packet's testParseGenerate): one helper turns
 * (name, path, tree, bytes) into decode, encode and round-trip cases; another checks that a malformed
 * fixture fails with a CodecError carrying the expected message, path and offset.
 */
import assert from 'node:assert/strict';
import { decode, encode } from '../../../lib/codec';
import { CodecError } from '../../../lib/errors';
import { LwM2mPath } from '../../../lib/model/path';
import { defaultModel, ObjectRegistry } from '../../../lib/model/registry';
import type {
  LwM2mNode,
  MultipleResource,
  ObjectDefinition,
  ObjectInstanceNode,
  ObjectModel,
  ObjectNode,
  ResourceDefinition,
  ResourceInstanceNode,
  ResourceNode,
  ResourceType,
  ResourceValue,
  RootNode,
  SingleResource,
} from '../../../lib/model/types';

/** Hex with optional spaces/newlines -> bytes. */
export function hex(s: string): Buffer {
  const clean = s.replace(/\s+/g, '');
  assert.match(clean, /^([0-9a-fA-F]{2})*$/, `bad hex fixture: ${s}`);
  return Buffer.from(clean, 'hex');
}

export const P = (s: string): LwM2mPath => LwM2mPath.parse(s);

// ---- tree builders -------------------------------------------------------------------------------------
export const res = (id: number, type: ResourceType, value: ResourceValue): SingleResource => ({ kind: 'single', id, type, value });
export const multi = (id: number, type: ResourceType, values: Record<number, ResourceValue> | [number, ResourceValue][]): MultipleResource => ({
  kind: 'multiple',
  id,
  type,
  instances: new Map(Array.isArray(values) ? values : Object.entries(values).map(([k, v]) => [Number(k), v] as [number, ResourceValue])),
});
export const inst = (id: number, ...resources: ResourceNode[]): ObjectInstanceNode => ({
  kind: 'instance',
  id,
  resources: new Map(resources.map((r) => [r.id, r])),
});
export const obj = (id: number, ...instances: ObjectInstanceNode[]): ObjectNode => ({
  kind: 'object',
  id,
  instances: new Map(instances.map((i) => [i.id, i])),
});
export const root = (...objects: ObjectNode[]): RootNode => ({ kind: 'root', objects: new Map(objects.map((o) => [o.id, o])) });
export const rinst = (id: number, type: ResourceType, value: ResourceValue): ResourceInstanceNode => ({ kind: 'resourceInstance', id, type, value });

// ---- a test object with one resource of every type, single and multiple --------------------------------
export const TEST_OBJECT_ID = 1000;

function rd(id: number, type: ResourceType, multiple = false): ResourceDefinition {
  return { id, name: `r${id}`, operations: type === 'none' ? 'E' : 'RW', multiple, mandatory: false, type };
}

/** Resource ids of object 1000 by type: single and multiple. */
export const TEST_RESOURCES: { type: ResourceType; single: number; multiple: number }[] = [
  { type: 'opaque', single: 0, multiple: 20 },
  { type: 'integer', single: 5, multiple: 25 },
  { type: 'unsigned', single: 6, multiple: 26 },
  { type: 'float', single: 7, multiple: 27 },
  { type: 'boolean', single: 8, multiple: 28 },
  { type: 'time', single: 9, multiple: 29 },
  { type: 'objlnk', single: 10, multiple: 30 },
  { type: 'string', single: 12, multiple: 32 },
  { type: 'corelnk', single: 13, multiple: 33 },
];

const testObject: ObjectDefinition = {
  id: TEST_OBJECT_ID,
  name: 'Codec test object',
  urn: 'urn:oma:lwm2m:x:1000',
  version: '1.0',
  lwm2mVersion: '1.1',
  multiple: true,
  mandatory: false,
  resources: Object.fromEntries(
    [
      ...TEST_RESOURCES.flatMap((r) => [rd(r.single, r.type), rd(r.multiple, r.type, true)]),
      rd(3, 'opaque'),
      rd(40, 'none'),
    ].map((d) => [d.id, d]),
  ),
};

const temperature: ObjectDefinition = {
  id: 3303,
  name: 'Temperature',
  urn: 'urn:oma:lwm2m:ext:3303',
  version: '1.0',
  lwm2mVersion: '1.0',
  multiple: true,
  mandatory: false,
  resources: { 5700: rd(5700, 'float'), 5701: rd(5701, 'string') },
};

/** defaultModel (objects 0,1,2,3,4,5,11,21) plus Temperature 3303 and the test object 1000. */
export const testModel: ObjectRegistry = (() => {
  const r = defaultModel.clone();
  r.add(testObject);
  r.add(temperature);
  return r;
})();

// ---- vectors ---------------------------------------------------------------------------------------------
export interface Vector {
  name: string;
  path: string;
  tree: LwM2mNode;
  /** The payload: hex for binary formats, or `text` for JSON / text formats. */
  hex?: string;
  text?: string;
  /**
   * False when the fixture is a form our encoder does not write (e.g. an alternative name or key form): then
   * `canonical` (hex or text) gives what it writes instead, and that is checked to decode to the same tree.
   */
  encodes?: boolean;
  canonical?: string;
  model?: ObjectModel;
}

function payloadOf(v: { hex?: string; text?: string }): Buffer {
  if (v.hex !== undefined) return hex(v.hex);
  if (v.text !== undefined) return Buffer.from(v.text, 'utf8');
  throw new Error('fixture without payload');
}

function canonicalOf(v: Vector): Buffer {
  if (v.canonical === undefined) throw new Error(`${v.name}: a non-encoding fixture needs "canonical"`);
  return v.hex !== undefined ? hex(v.canonical) : Buffer.from(v.canonical, 'utf8');
}

function show(b: Buffer, textual: boolean): string {
  return textual ? b.toString('utf8') : b.toString('hex');
}

export function vectorSuite(cf: number, vectors: Vector[]): void {
  for (const v of vectors) {
    const model = v.model ?? testModel;
    const textual = v.hex === undefined;
    describe(v.name, () => {
      it(`decodes at ${v.path}`, () => {
        assert.deepStrictEqual(decode(cf, P(v.path), payloadOf(v), model), v.tree);
      });
      if (v.encodes !== false) {
        it('encodes byte for byte', () => {
          assert.equal(show(encode(cf, P(v.path), v.tree, model), textual), show(payloadOf(v), textual));
        });
      } else {
        it('re-encodes in the canonical form, which decodes to the same tree', () => {
          const out = encode(cf, P(v.path), v.tree, model);
          assert.equal(show(out, textual), show(canonicalOf(v), textual));
          assert.deepStrictEqual(decode(cf, P(v.path), out, model), v.tree);
        });
      }
      it('round-trips tree -> bytes -> tree', () => {
        assert.deepStrictEqual(decode(cf, P(v.path), encode(cf, P(v.path), v.tree, model), model), v.tree);
      });
    });
  }
}

export interface Malformed {
  name: string;
  path: string;
  hex?: string;
  text?: string;
  message: RegExp;
  /** Expected byte offset (undefined = not checked; null = must be absent). */
  offset?: number | null;
  /** Expected error path (defaults to the request path). */
  errorPath?: string;
  model?: ObjectModel;
}

/** Checks that a thrown value is a CodecError with the expected data. */
export function assertCodecError(
  e: unknown,
  expect: { format: number; message: RegExp; path?: string; offset?: number | null },
): true {
  assert.ok(e instanceof CodecError, `expected a CodecError, got ${String(e)}`);
  assert.equal(e.code, 'CODEC');
  assert.equal(e.format, expect.format);
  assert.match(e.message, expect.message);
  if (expect.path !== undefined) assert.equal(e.path, expect.path);
  if (expect.offset === null) assert.equal(e.offset, undefined);
  else if (expect.offset !== undefined) assert.equal(e.offset, expect.offset);
  return true;
}

export function malformedSuite(cf: number, cases: Malformed[]): void {
  for (const c of cases) {
    it(`rejects ${c.name} with a CodecError`, () => {
      assert.throws(
        () => decode(cf, P(c.path), payloadOf(c), c.model ?? testModel),
        (e: unknown) => assertCodecError(e, { format: cf, message: c.message, path: c.errorPath ?? c.path, offset: c.offset }),
      );
    });
  }
}
