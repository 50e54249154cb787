/**
 * CoRE link-format the device produces: the Bootstrap-Discover answer (OMA-TS-LightweightM2M_Core, Bootstrap Interface (Bootstrap-Discover)) and the
 * Register/Update payload. Written here rather than through the codec because the exact wording per
 * LwM2M version is device behaviour (1.0 `lwm2m="1.0",` header, 1.1+ `</>;lwm2m=1.1,`).
 */
import type { ObjectStore } from './store';
import { isTrue, numberOf, stringOf } from './store';

export type Lwm2mVersion = '1.0' | '1.1' | '1.2';

function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function objectVersion(store: ObjectStore, objectId: number, version: Lwm2mVersion): string | undefined {
  if (version === '1.0') return undefined;
  const v = store.model.getObject(objectId)?.version;
  return v && v !== '1.0' ? v : undefined;
}

/** Bootstrap-Discover of `/` (objectId undefined) or `/O`. */
export function bootstrapDiscoverLinks(store: ObjectStore, version: Lwm2mVersion, objectId?: number): string {
  const links: string[] = [version === '1.0' ? 'lwm2m="1.0"' : `</>;lwm2m=${version}`];
  const ids =
    objectId !== undefined
      ? [objectId]
      : [...new Set([...store.supported, ...store.objects.keys()])].sort((a, b) => a - b);
  for (const oid of ids) {
    const insts = store.instances(oid);
    const ver = objectVersion(store, oid, version);
    if (insts.length === 0 || ver) links.push(`</${oid}>` + (ver ? `;ver=${ver}` : ''));
    for (const inst of insts) {
      let link = `</${oid}/${inst.id}>`;
      if (oid === 0) {
        const bs = isTrue(inst.resources.get(1));
        const ssid = numberOf(inst.resources.get(10));
        if (!bs && ssid !== undefined) link += `;ssid=${ssid}`;
        const uri = stringOf(inst.resources.get(0));
        if (version !== '1.0' && uri !== undefined) link += `;uri=${quote(uri)}`;
      } else if (oid === 1) {
        const ssid = numberOf(inst.resources.get(0));
        if (ssid !== undefined) link += `;ssid=${ssid}`;
      }
      links.push(link);
    }
  }
  return links.join(',');
}

/** Register/Update payload: every object and instance a DM server may see (no Security, no OSCORE). */
export function registerLinks(store: ObjectStore, version: Lwm2mVersion, contentFormat?: number): string {
  const links: string[] = [];
  if (version !== '1.0') links.push('</>;rt="oma.lwm2m"' + (contentFormat !== undefined ? `;ct=${contentFormat}` : ''));
  const ids = [...new Set([...store.supported, ...store.objects.keys()])]
    .filter((o) => o !== 0 && o !== 21)
    .sort((a, b) => a - b);
  for (const oid of ids) {
    const insts = store.instances(oid);
    const ver = objectVersion(store, oid, version);
    if (insts.length === 0 || ver) links.push(`</${oid}>` + (ver ? `;ver=${ver}` : ''));
    for (const inst of insts) links.push(`</${oid}/${inst.id}>`);
  }
  return links.join(',');
}
