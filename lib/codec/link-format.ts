/**
 * CoRE Link Format (CF 40, RFC 6690) as LwM2M uses it in (Bootstrap-)Discover and Register payloads.
 * The parser is liberal as OMA-TS-LightweightM2M_Core, Bootstrap Interface (Bootstrap-Discover) and RFC 6690 allow: the LwM2M 1.0 bare `lwm2m="1.0"` element and the
 * 1.1+ `</>;lwm2m=1.1` link, quoted or unquoted values, whitespace around separators, a stray trailing slash
 * in paths, attributes in any order, unknown attributes. Unterminated quotes or brackets are CodecErrors.
 */
import { CodecContext } from './context';
import { invalidUtf8Offset } from './utf8';
import { FORMATS } from './formats';

export const LINK_FORMAT = FORMATS.LINK.code;

export interface Link {
  /** The target, e.g. "/0/1" (a trailing slash removed, "/" kept). */
  path: string;
  /** Attribute values unquoted; an attribute without a value maps to "". */
  attributes: Record<string, string>;
}

export interface ParsedLinkFormat {
  links: Link[];
  /** Enabler version from `lwm2m="1.0"` (1.0 form) or a link's `lwm2m` attribute (`</>;lwm2m=1.1`). */
  lwm2mVersion?: string;
}

/** Splits at `sep` outside quotes (and outside <…> when `angles`), with each part's start index. */
function split(ctx: CodecContext, text: string, from: number, to: number, sep: string, angles: boolean, bytePos: (i: number) => number): [string, number][] {
  const out: [string, number][] = [];
  let start = from;
  let quoted = false;
  let inAngle = false;
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (angles && c === '<') inAngle = true;
    else if (angles && c === '>') inAngle = false;
    else if (c === sep && !inAngle) {
      out.push([text.slice(start, i), start]);
      start = i + 1;
    }
  }
  if (quoted) ctx.fail('unterminated quoted string in link-format', bytePos(to));
  if (inAngle) ctx.fail('missing ">" in link-format', bytePos(to));
  out.push([text.slice(start, to), start]);
  return out;
}

function unquote(ctx: CodecContext, raw: string, at: number): string {
  const v = raw.trim();
  if (!v.startsWith('"')) return v;
  if (v.length < 2 || !v.endsWith('"')) ctx.fail('badly quoted attribute value in link-format', at);
  return v.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function parseLinkFormat(input: string | Buffer): ParsedLinkFormat {
  const ctx: CodecContext = new CodecContext(LINK_FORMAT, '/');
  let text: string;
  if (typeof input === 'string') text = input;
  else if (Buffer.isBuffer(input)) {
    const bad = invalidUtf8Offset(input);
    if (bad >= 0) ctx.fail('invalid UTF-8 in link-format', bad);
    text = input.toString('utf8');
  } else return ctx.fail('link-format input must be a string or a Buffer');
  const bytePos = (i: number): number => Buffer.byteLength(text.slice(0, i), 'utf8');
  const result: ParsedLinkFormat = { links: [] };
  for (const [raw, start] of split(ctx, text, 0, text.length, ',', true, bytePos)) {
    const el = raw.trim();
    if (el === '') continue;
    const elStart = start + (raw.length - raw.trimStart().length);
    let params: [string, number][];
    let link: Link | undefined;
    if (el.startsWith('<')) {
      const close = el.indexOf('>');
      if (close < 0) ctx.fail('missing ">" in link-format', bytePos(elStart));
      let path = el.slice(1, close).trim();
      if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
      link = { path, attributes: {} };
      const rest = el.slice(close + 1).trim();
      if (rest !== '' && !rest.startsWith(';')) ctx.fail(`unexpected text after <${path}>`, bytePos(elStart + close + 1));
      params = split(ctx, el, close + 1, el.length, ';', false, (i) => bytePos(elStart + i)).slice(1);
    } else {
      params = [[el, 0]]; // LwM2M 1.0: the enabler version stands alone
    }
    for (const [p, pStart] of params) {
      const t = p.trim();
      if (t === '') continue;
      const eq = t.indexOf('=');
      const name = (eq < 0 ? t : t.slice(0, eq)).trim();
      if (!/^[A-Za-z0-9!#$&+\-.^_`|~]+$/.test(name)) {
        ctx.fail(`"${t.slice(0, 30)}" is not a link attribute`, bytePos(elStart + pStart));
      }
      const value = eq < 0 ? '' : unquote(ctx, t.slice(eq + 1), bytePos(elStart + pStart));
      if (link) link.attributes[name] = value;
      else if (name !== 'lwm2m') ctx.fail(`"${el.slice(0, 30)}" is neither a link nor the lwm2m version`, bytePos(elStart));
      if (name === 'lwm2m' && result.lwm2mVersion === undefined) result.lwm2mVersion = value;
    }
    if (link) result.links.push(link);
  }
  return result;
}

const TOKEN = /^[A-Za-z0-9.\-_]+$/;

export interface EncodeLinkOptions {
  /** Enabler version to announce first: "1.0" as `lwm2m="1.0"`, others as `</>;lwm2m=X`. */
  lwm2mVersion?: string;
}

/** Link-format text; values are quoted unless they are plain tokens (`uri` is always quoted). */
export function encodeLinkFormat(links: Link[], opts: EncodeLinkOptions = {}): string {
  const ctx: CodecContext = new CodecContext(LINK_FORMAT, '/');
  const parts: string[] = [];
  if (opts.lwm2mVersion !== undefined) {
    if (!TOKEN.test(opts.lwm2mVersion)) ctx.fail(`"${opts.lwm2mVersion}" is not a version`);
    parts.push(opts.lwm2mVersion === '1.0' ? 'lwm2m="1.0"' : `</>;lwm2m=${opts.lwm2mVersion}`);
  }
  for (const l of links) {
    if (!l || typeof l.path !== 'string' || /[<>,"\s]/.test(l.path)) ctx.fail(`invalid link target ${JSON.stringify(l?.path)}`);
    let s = `<${l.path}>`;
    for (const [name, value] of Object.entries(l.attributes ?? {})) {
      if (!/^[A-Za-z0-9!#$&+\-.^_`|~]+$/.test(name)) ctx.fail(`invalid link attribute name ${JSON.stringify(name)}`, undefined, l.path);
      if (typeof value !== 'string') ctx.fail(`attribute ${name} must be a string`, undefined, l.path);
      if (value === '') s += `;${name}`;
      else if (TOKEN.test(value) && name !== 'uri') s += `;${name}=${value}`;
      else s += `;${name}="${value.replace(/[\\"]/g, (c) => '\\' + c)}"`;
    }
    parts.push(s);
  }
  return parts.join(',');
}

