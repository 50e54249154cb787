/** The content-format table (lib/codec/formats.ts): the lists derived from it, and the profile schema kept in step with it. */
import assert from 'node:assert/strict';
import {
  codecs,
  ContentFormat,
  deviceDefaultFormats,
  FORMATS,
  getCodec,
  MEDIA_TYPES,
  PACK_FORMATS,
  PCT_FORMATS,
  PROFILE_FORMAT_NAMES,
  WRITE_FORMAT_FALLBACK,
  WRITE_READ_FORMATS,
  writeFormatForPct,
} from '../../../lib/codec';
import schema from '../../../lib/profile/profile.schema.json';

describe('content-format table (lib/codec/formats.ts)', () => {
  it('the profile schema names exactly the formats the table lets a profile fix, names then numbers', () => {
    const anyOf = (schema as { properties: { contentFormat: { anyOf: { enum?: unknown[] }[] } } }).properties.contentFormat.anyOf;
    const enumValues = anyOf.find((a) => Array.isArray(a.enum))?.enum;
    assert.deepStrictEqual(enumValues, ['auto', ...Object.keys(PROFILE_FORMAT_NAMES), ...Object.values(PROFILE_FORMAT_NAMES)]);
  });

  it('every tree and single-value row has a codec that reads its code and legacy code and writes its code', () => {
    for (const f of Object.values(FORMATS)) {
      const c = getCodec(f.code);
      if (f.shape === 'tree' || f.shape === 'single') {
        assert.ok(c, `${f.label} (${f.code}) has a codec`);
        assert.equal(c.formats[0], f.code);
        assert.equal(c.name, f.label);
        if ('legacy' in f) assert.equal(getCodec(f.legacy), c);
      } else {
        assert.equal(c, undefined, `${f.label} is not a tree format`);
      }
    }
    assert.equal(codecs.length, WRITE_READ_FORMATS.length);
  });

  it('derives the lists the bootstrap server and the simulator used to spell out', () => {
    assert.deepStrictEqual(WRITE_FORMAT_FALLBACK, [112, 110, 11542]);
    assert.deepStrictEqual(PACK_FORMATS, [112, 110, 11544]);
    assert.deepStrictEqual([...PCT_FORMATS].sort((a, b) => a - b), [110, 112, 1542, 1543, 11542, 11543, 11544]);
    assert.deepStrictEqual(deviceDefaultFormats('1.0'), [11542]);
    assert.deepStrictEqual(deviceDefaultFormats('1.1'), [112, 110, 11542]);
    assert.deepStrictEqual(deviceDefaultFormats('1.2'), [112, 110, 11544, 11542]);
    assert.deepStrictEqual([...WRITE_READ_FORMATS].sort((a, b) => a - b), [0, 42, 60, 110, 112, 11542, 11543, 11544]);
    assert.equal(MEDIA_TYPES['application/vnd.oma.lwm2m+tlv'], ContentFormat.TLV);
    assert.equal(ContentFormat.TLV_LEGACY, 1542);
  });

  it('chooses the Write format for a pct: itself, SenML JSON for LwM2M JSON, else TLV', () => {
    assert.equal(writeFormatForPct(112), 112);
    assert.equal(writeFormatForPct(1542), 11542);
    assert.equal(writeFormatForPct(11543), 110);
    assert.equal(writeFormatForPct(1543), 110);
    assert.equal(writeFormatForPct(0), 11542, 'a single-value format is no pct');
    assert.equal(writeFormatForPct(undefined), 11542);
  });
});
