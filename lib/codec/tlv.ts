/**
 * OMA-TLV (CF 11542, legacy 1542), model layer: TLV records <-> instance trees, typed by the object model.
 * Encoding at /O/I gives the bare resource TLVs; decoding at /O/I accepts them bare or wrapped in one
 * Object Instance TLV of the same id. Resources the model does not know decode as opaque.
 */
import { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectInstanceNode, ObjectModel, ObjectNode, ResourceNode, ResourceType } from '../model/types';
import type { Codec } from './codec';
import { asBuffer, CodecContext, guard } from './context';
import { parseTlv, serializeTlv, TLV_KIND_NAMES, TlvKind, type TlvRecord } from './tlv-bytes';
import { decodeTlvValue, encodeTlvValue } from './tlv-values';
import { TreeBuilder } from './tree-builder';
import { checkedValue, checkNodeAt, checkResource, instancesOf, resourceInfo, resourcesOf } from './tree-walk';
import { FORMATS, formatCodes } from './formats';

export const TLV_FORMAT = FORMATS.TLV.code;

function valueBytes(ctx: CodecContext, path: LwM2mPath, type: ResourceType, value: unknown): Buffer {
  const v = checkedValue(ctx, path, type, value);
  return guard(ctx.at(path.toString()), 'TLV value', () => encodeTlvValue(type, v));
}

function resourceRecord(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, r: ResourceNode): TlvRecord {
  const type = checkResource(ctx, model, path, r);
  if (r.kind === 'single') return { kind: TlvKind.Resource, id: r.id, value: valueBytes(ctx, path, type, r.value) };
  const children: TlvRecord[] = [];
  for (const [ri, v] of r.instances) {
    children.push({ kind: TlvKind.ResourceInstance, id: ri, value: valueBytes(ctx, path.append(ri), type, v) });
  }
  return { kind: TlvKind.MultipleResource, id: r.id, children };
}

function instanceRecords(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, i: ObjectInstanceNode): TlvRecord[] {
  return [...resourcesOf(ctx, path, i).values()].map((r) => resourceRecord(ctx, model, path.append(r.id), r));
}

function objectRecords(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, o: ObjectNode): TlvRecord[] {
  return [...instancesOf(ctx, path, o).values()].map((i) => ({
    kind: TlvKind.ObjectInstance,
    id: i.id,
    children: instanceRecords(ctx, model, path.append(i.id), i),
  }));
}

class TlvDecoder {
  constructor(
    private readonly ctx: CodecContext,
    private readonly model: ObjectModel,
    private readonly b: TreeBuilder,
  ) {}

  private type(path: LwM2mPath): ResourceType {
    return resourceInfo(this.model, path.ids[0], path.ids[2], 'opaque').type;
  }

  private value(path: LwM2mPath, rec: TlvRecord): ReturnType<typeof decodeTlvValue> {
    return decodeTlvValue(this.ctx, this.type(path), rec.value!, rec.valueOffset ?? 0, path.toString());
  }

  resource(instPath: LwM2mPath, rec: TlvRecord): void {
    const p = instPath.append(rec.id);
    if (rec.kind === TlvKind.Resource) {
      this.b.single(p, this.type(p), this.value(p, rec), rec.offset);
    } else if (rec.kind === TlvKind.MultipleResource) {
      this.b.multiple(p, this.type(p), rec.offset);
      for (const c of rec.children!) this.resourceInstance(p, c);
    } else {
      this.unexpected(rec, 'Resource or Multiple Resource', p);
    }
  }

  resourceInstance(resPath: LwM2mPath, rec: TlvRecord): void {
    const p = resPath.append(rec.id);
    if (rec.kind !== TlvKind.ResourceInstance) this.unexpected(rec, 'Resource Instance', p);
    this.b.resourceInstance(p, this.type(p), this.value(p, rec), rec.offset);
  }

  instance(instPath: LwM2mPath, records: TlvRecord[]): void {
    this.b.container(instPath);
    for (const r of records) this.resource(instPath, r);
  }

  unexpected(rec: TlvRecord, expected: string, path: LwM2mPath): never {
    return this.ctx.fail(`expected a ${expected} TLV, got a ${TLV_KIND_NAMES[rec.kind]} TLV (id ${rec.id})`, rec.offset, path.toString());
  }
}

export const tlvCodec: Codec = {
  formats: formatCodes('TLV'),
  name: 'TLV',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(TLV_FORMAT, path.toString());
    checkNodeAt(ctx, path, node);
    let records: TlvRecord[];
    switch (node.kind) {
      case 'root':
        return ctx.fail('TLV cannot carry a whole tree (no object ids at the top level): use SenML or LwM2M CBOR');
      case 'object':
        records = objectRecords(ctx, model, path, node);
        break;
      case 'instance':
        records = instanceRecords(ctx, model, path, node);
        break;
      case 'single':
      case 'multiple':
        records = [resourceRecord(ctx, model, path, node)];
        break;
      case 'resourceInstance': {
        const info = resourceInfo(model, path.ids[0], path.ids[2], node.type);
        if (info.multiple === false) ctx.fail('the resource is single-instance: it has no resource instances');
        records = [{ kind: TlvKind.ResourceInstance, id: node.id, value: valueBytes(ctx, path, info.type, node.value) }];
        break;
      }
    }
    return serializeTlv(ctx, records);
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(TLV_FORMAT, path.toString());
    if (path.isRoot()) ctx.fail('TLV cannot carry a whole tree: decode per object');
    const records = parseTlv(ctx, asBuffer(ctx, payload));
    const b = new TreeBuilder(ctx, path, model);
    const d = new TlvDecoder(ctx, model, b);
    const [oid, iid, rid] = path.ids;
    switch (path.level) {
      case 'object':
        b.container(path);
        for (const r of records) {
          if (r.kind !== TlvKind.ObjectInstance) d.unexpected(r, 'Object Instance', path);
          d.instance(new LwM2mPath(oid, r.id), r.children!);
        }
        break;
      case 'instance': {
        const wrapped = records.length === 1 && records[0].kind === TlvKind.ObjectInstance;
        if (wrapped && records[0].id !== iid) {
          ctx.fail(`the payload wraps Object Instance ${records[0].id}, not ${iid}`, records[0].offset);
        }
        d.instance(path, wrapped ? records[0].children! : records);
        break;
      }
      case 'resource': {
        const ip = new LwM2mPath(oid, iid);
        if (records.length > 0 && records.every((r) => r.kind === TlvKind.ResourceInstance)) {
          // Some clients answer a multiple resource with its bare Resource Instance TLVs.
          b.multiple(path, resourceInfo(model, oid, rid, 'opaque').type);
          for (const r of records) d.resourceInstance(path, r);
          break;
        }
        if (records.length !== 1) ctx.fail(`expected one Resource TLV, got ${records.length} TLVs`);
        if (records[0].id !== rid) ctx.fail(`the TLV is resource ${records[0].id}, not ${rid}`, records[0].offset);
        d.resource(ip, records[0]);
        break;
      }
      case 'resourceInstance': {
        let recs = records;
        if (recs.length === 1 && recs[0].kind === TlvKind.MultipleResource && recs[0].id === rid) recs = recs[0].children!;
        if (recs.length !== 1) ctx.fail(`expected one Resource Instance TLV, got ${recs.length} TLVs`);
        if (recs[0].kind === TlvKind.ResourceInstance && recs[0].id !== path.ids[3]) {
          ctx.fail(`the TLV is resource instance ${recs[0].id}, not ${path.ids[3]}`, recs[0].offset);
        }
        d.resourceInstance(path.parent(), recs[0]);
        break;
      }
    }
    return b.result();
  },
};
