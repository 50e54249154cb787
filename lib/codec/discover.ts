/**
 * What a Bootstrap-Discover answer tells the Bootstrap-Server: the enabler version, which Security instance
 * is the Bootstrap-Server account (the one without `ssid`), the server accounts and the objects/instances
 * present with their versions (OMA-TS-LightweightM2M_Core, Bootstrap Interface (Bootstrap-Discover)).
 */
import { CodecContext } from './context';
import { type Link, LINK_FORMAT, type ParsedLinkFormat, parseLinkFormat } from './link-format';

export interface DiscoverInfo {
  lwm2mVersion?: string;
  /** The Security instance without `ssid`; undefined when there is none, or more than one. */
  bootstrapAccountInstanceId?: number;
  securityInstances: { id: number; ssid?: number; uri?: string }[];
  serverInstances: { id: number; ssid?: number }[];
  objects: { id: number; instances: number[]; version?: string }[];
}

const OBJ_OR_INSTANCE = /^\/(0|[1-9]\d{0,4})(?:\/(0|[1-9]\d{0,4}))?$/;

function ssidOf(ctx: CodecContext, link: Link): number | undefined {
  const s = link.attributes.ssid;
  if (s === undefined) return undefined;
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) ctx.fail(`ssid "${s}" is not a number 0..65535`, undefined, link.path);
  return Number(s);
}

/** Interprets a Bootstrap-Discover payload (text, parsed, or its links). */
export function bootstrapDiscoverInfo(input: ParsedLinkFormat | Link[] | string | Buffer): DiscoverInfo {
  const ctx: CodecContext = new CodecContext(LINK_FORMAT, '/');
  const parsed: ParsedLinkFormat =
    typeof input === 'string' || Buffer.isBuffer(input) ? parseLinkFormat(input) : Array.isArray(input) ? { links: input } : input;
  let lwm2mVersion = parsed.lwm2mVersion;
  const objects = new Map<number, { id: number; instances: number[]; version?: string }>();
  const security: DiscoverInfo['securityInstances'] = [];
  const servers: DiscoverInfo['serverInstances'] = [];
  for (const link of parsed.links) {
    if (lwm2mVersion === undefined && link.attributes.lwm2m !== undefined) lwm2mVersion = link.attributes.lwm2m;
    const m = OBJ_OR_INSTANCE.exec(link.path);
    if (!m) continue; // "/", alternate paths, resources
    const oid = Number(m[1]);
    if (oid > 65535) continue;
    let o = objects.get(oid);
    if (!o) objects.set(oid, (o = { id: oid, instances: [] }));
    if (m[2] === undefined) {
      if (link.attributes.ver !== undefined) o.version = link.attributes.ver;
      continue;
    }
    const iid = Number(m[2]);
    if (iid > 65535) continue;
    if (!o.instances.includes(iid)) o.instances.push(iid);
    const ssid = ssidOf(ctx, link);
    if (oid === 0) {
      const s: DiscoverInfo['securityInstances'][number] = { id: iid };
      if (ssid !== undefined) s.ssid = ssid;
      if (link.attributes.uri !== undefined) s.uri = link.attributes.uri;
      security.push(s);
    } else if (oid === 1) servers.push(ssid === undefined ? { id: iid } : { id: iid, ssid });
  }
  const withoutSsid = security.filter((s) => s.ssid === undefined);
  const info: DiscoverInfo = {
    securityInstances: security,
    serverInstances: servers,
    objects: [...objects.values()].sort((a, b) => a.id - b.id).map((o) => ({ ...o, instances: o.instances.sort((a, b) => a - b) })),
  };
  if (lwm2mVersion !== undefined) info.lwm2mVersion = lwm2mVersion;
  if (withoutSsid.length === 1) info.bootstrapAccountInstanceId = withoutSsid[0].id;
  return info;
}
