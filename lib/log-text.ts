/**
 * Untrusted text on its way into a log line: endpoint names, identities, diagnostics, anything a peer
 * sent. Cut short (a 60 KB name must not become a 60 KB line) and escaped, so that a peer cannot end the
 * line, forge another (`\n[error] …`), move the terminal's cursor or recolour it (ANSI/VT escapes), or
 * reorder what a reader sees (bidirectional overrides). The result is plain printable text; a backslash
 * is doubled, so every escape is unambiguous.
 */

/** Characters kept from untrusted text by default before the ellipsis. */
export const LOG_TEXT_MAX = 64;

// C0 controls, DEL, C1 controls (incl. the 8-bit CSI 0x9b), line/paragraph separators, bidi controls,
// zero-width and BOM characters, and lone surrogates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\\/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `value` as safe log text: at most `max` characters (code points) of it, escaped, then `…` when it was
 * longer. Buffers are shown as hex (cut the same way); anything else through String().
 */
export function logText(value: unknown, max = LOG_TEXT_MAX): string {
  let s: string;
  if (Buffer.isBuffer(value)) s = `hex:${value.subarray(0, Math.ceil(max / 2)).toString('hex')}${value.length > max / 2 ? '…' : ''}`;
  else s = typeof value === 'string' ? value : String(value);
  let cut = false;
  if (s.length > max) {
    // Cut on code points, so a surrogate pair is not split into two escapes.
    const points = Array.from(s.slice(0, max * 2));
    if (points.length > max || s.length > max * 2) {
      s = points.slice(0, max).join('');
      cut = true;
    }
  }
  return s.replace(UNSAFE, escapeOne) + (cut ? '…' : '');
}

/** logText in double quotes (a quote inside is escaped too): `"dev\\n1"`. */
export function logQuoted(value: unknown, max = LOG_TEXT_MAX): string {
  return `"${logText(value, max).replace(/"/g, '\\"')}"`;
}
