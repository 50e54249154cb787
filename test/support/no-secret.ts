/**
 * "The key is nowhere": one check over every spelling a key's bytes can take on their way into a log line,
 * a status, a debug message or a file. Looking for lower-case hex only misses a key that was base64'd, a
 * Buffer that went through JSON.stringify or util.inspect, or the raw bytes written as text.
 */
import assert from 'node:assert/strict';

/** Each spelling of `key` (its bytes, or their hex) with a name for the failure message. */
export function keySpellings(key: Buffer | string): { form: string; text: string }[] {
  const b = typeof key === 'string' ? Buffer.from(key, 'hex') : key;
  if (b.length === 0) throw new Error('keySpellings: an empty key matches everything');
  const hex = b.toString('hex');
  const bytes = [...b];
  const latin1 = b.toString('latin1');
  const spellings = [
    { form: 'lower-case hex', text: hex },
    { form: 'upper-case hex', text: hex.toUpperCase() },
    { form: 'spaced hex (util.inspect of a Buffer)', text: hex.replace(/(..)(?!$)/g, '$1 ') },
    { form: 'base64', text: b.toString('base64').replace(/=+$/, '') },
    { form: 'base64url', text: b.toString('base64url') },
    { form: 'serialised Buffer ({"type":"Buffer","data":[…]})', text: `"data":[${bytes.join(',')}]` },
    { form: 'byte list (util.inspect of an array)', text: bytes.join(', ') },
    { form: 'raw bytes (latin1)', text: latin1 },
    { form: 'raw bytes in a JSON string', text: JSON.stringify(latin1).slice(1, -1) },
  ];
  return spellings.filter((s, i) => spellings.findIndex((o) => o.text === s.text) === i);
}

/**
 * Fails when any spelling of `key` occurs in `haystack`: text (as logged, shown or stored) or bytes (a
 * file read as is, where the raw key is looked for byte by byte as well). `where` names the place.
 */
export function assertNoKey(haystack: string | Buffer, key: Buffer | string, where: string): void {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  if (Buffer.isBuffer(haystack)) {
    const b = typeof key === 'string' ? Buffer.from(key, 'hex') : key;
    assert.ok(!haystack.includes(b), `${where}: the key's raw bytes are in it`);
  }
  // util.inspect pads and wraps long number arrays: compare byte lists with runs of white space as one space.
  const squeezed = text.replace(/\s+/g, ' ');
  for (const { form, text: spelled } of keySpellings(key)) {
    assert.ok(!text.includes(spelled) && !squeezed.includes(spelled), `${where}: the key is in it as ${form}`);
  }
}
