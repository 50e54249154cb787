import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultModel, generatedObjects, ModelError, ObjectRegistry } from '../../../lib/model';
import type { ObjectDefinition } from '../../../lib/model';

describe('model: generated definitions', () => {
  it('holds objects 0, 1, 2, 3, 4, 5, 11 and 21 in ascending order', () => {
    assert.deepEqual(
      generatedObjects.map((o) => o.id),
      [0, 1, 2, 3, 4, 5, 11, 21],
    );
  });

  it('types /0/x/16 DTLS/TLS Ciphersuite as a multiple-instance optional unsigned integer', () => {
    const r = defaultModel.getResource(0, 16);
    assert.equal(r?.name, 'DTLS/TLS Ciphersuite');
    assert.equal(r?.type, 'unsigned');
    assert.equal(r?.multiple, true);
    assert.equal(r?.mandatory, false);
  });

  it('types /1/x/7 Binding as a mandatory single string, /1/x/8 as executable (none)', () => {
    assert.deepEqual(
      (({ type, multiple, mandatory, operations }) => ({ type, multiple, mandatory, operations }))(defaultModel.getResource(1, 7)!),
      { type: 'string', multiple: false, mandatory: true, operations: 'RW' },
    );
    assert.equal(defaultModel.getResource(1, 8)?.type, 'none');
    assert.equal(defaultModel.getResource(1, 8)?.operations, 'E');
  });

  it('maps Opaque, Boolean, Objlnk and Time, and folds white space in names', () => {
    assert.equal(defaultModel.getResource(0, 5)?.type, 'opaque');
    assert.equal(defaultModel.getResource(0, 1)?.type, 'boolean');
    assert.equal(defaultModel.getResource(0, 17)?.type, 'objlnk');
    assert.equal(defaultModel.getResource(3, 13)?.type, 'time');
    assert.equal(defaultModel.getResource(0, 0)?.name, 'LWM2M Server URI');
  });

  it('carries object metadata: versions, URN, multiplicity', () => {
    const sec = defaultModel.getObject(0)!;
    assert.equal(sec.version, '1.2');
    assert.equal(sec.lwm2mVersion, '1.1');
    assert.equal(sec.urn, 'urn:oma:lwm2m:oma:0:1.2');
    assert.equal(sec.multiple, true);
    assert.equal(defaultModel.getObject(3)?.multiple, false);
    assert.equal(defaultModel.getObject(21)?.version, '2.0');
    assert.equal(defaultModel.getResource(2, 2)?.rangeEnumeration, '0..31');
  });

  const root = path.resolve(__dirname, '../../../..');
  const generator = path.join(root, 'scripts/generate-model.js');

  it('the committed output is what the generator produces from the XML', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genmodel-'));
    try {
      const out = path.join(tmp, 'objects.generated.ts');
      execFileSync(process.execPath, [generator, path.join(root, 'lib/model/xml'), out], { stdio: 'pipe' });
      assert.equal(fs.readFileSync(out, 'utf8'), fs.readFileSync(path.join(root, 'lib/model/objects.generated.ts'), 'utf8'));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the generator defaults ObjectVersion to 1.0 and rejects an untyped non-executable resource', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genmodel-'));
    const xml = (type: string, ops: string) => `<?xml version="1.0"?><LWM2M><Object ObjectType="MODefinition">
      <Name>Vendor</Name><ObjectID>32769</ObjectID><ObjectURN>urn:oma:lwm2m:x:32769</ObjectURN>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory><Resources>
      <Item ID="7"><Name>X</Name><Operations>${ops}</Operations><MultipleInstances>Single</MultipleInstances>
      <Mandatory>Mandatory</Mandatory><Type>${type}</Type><RangeEnumeration/><Units/><Description/></Item>
      </Resources></Object></LWM2M>`;
    const out = path.join(tmp, 'out.ts');
    const run = () => execFileSync(process.execPath, [generator, tmp, out], { stdio: 'pipe' });
    try {
      fs.writeFileSync(path.join(tmp, '32769.xml'), xml('Float', 'RW'));
      run();
      const text = fs.readFileSync(out, 'utf8');
      assert.match(text, /"version": "1.0"/);
      assert.match(text, /"lwm2mVersion": "1.0"/);
      assert.match(text, /"type": "float"/);
      fs.writeFileSync(path.join(tmp, '32769.xml'), xml('', 'RW'));
      assert.throws(run, (e: Error & { stderr?: Buffer }) => /resource 7 has no Type but operations "RW"/.test(String(e.stderr)));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('model: ObjectRegistry', () => {
  const vendor: ObjectDefinition = {
    id: 32769,
    name: 'Vendor',
    urn: 'urn:oma:lwm2m:x:32769',
    version: '1.0',
    lwm2mVersion: '1.1',
    multiple: true,
    mandatory: false,
    resources: { 1: { id: 1, name: 'Level', operations: 'RW', multiple: false, mandatory: true, type: 'integer' } },
  };

  it('answers undefined for unknown objects and resources', () => {
    assert.equal(defaultModel.getObject(9999), undefined);
    assert.equal(defaultModel.getResource(0, 999), undefined);
    assert.equal(defaultModel.getResource(9999, 0), undefined);
  });

  it('a clone can be extended without changing the default model', () => {
    const mine = defaultModel.clone();
    mine.add(vendor);
    assert.equal(mine.getResource(32769, 1)?.name, 'Level');
    assert.equal(defaultModel.getObject(32769), undefined);
    assert.deepEqual(
      mine.list().map((o) => o.id),
      [0, 1, 2, 3, 4, 5, 11, 21, 32769],
    );
  });

  it('rejects a definition whose resource key and id disagree, or whose id is out of range', () => {
    const bad = { ...vendor, resources: { 2: vendor.resources[1] } };
    assert.throws(() => new ObjectRegistry([bad]), ModelError);
    assert.throws(() => new ObjectRegistry([{ ...vendor, id: 70000 }]), /not an integer in 0..65534/);
  });
});
