/**
 * ObjectRegistry: the object model as a lookup table. `defaultModel` holds the definitions generated from
 * the OMA registry XML (objects 0, 1, 2, 3, 4, 5, 11, 21); callers add vendor objects with `add()` on a
 * registry of their own, so the shared default is never changed behind another user's back.
 */
import { ModelError } from './errors';
import { generatedObjects } from './objects.generated';
import type { ObjectDefinition, ObjectModel, ResourceDefinition } from './types';

function checkDefinition(def: ObjectDefinition): void {
  if (!def || typeof def !== 'object') throw new ModelError('object definition must be an object');
  if (!Number.isInteger(def.id) || def.id < 0 || def.id > 65534) {
    throw new ModelError(`object id ${String(def.id)} is not an integer in 0..65534`);
  }
  if (!def.resources || typeof def.resources !== 'object') {
    throw new ModelError(`object ${def.id} has no resources table`, def.id);
  }
  for (const [key, res] of Object.entries(def.resources)) {
    if (!res || Number(key) !== res.id || !Number.isInteger(res.id) || res.id < 0 || res.id > 65534) {
      throw new ModelError(`object ${def.id}: resource under key "${key}" has id ${String(res?.id)}`, def.id);
    }
  }
}

export class ObjectRegistry implements ObjectModel {
  private readonly objects = new Map<number, ObjectDefinition>();

  constructor(defs: ObjectDefinition[] = []) {
    for (const d of defs) this.add(d);
  }

  /** Adds or replaces the definition of `def.id` (a newer object version replaces an older one). */
  add(def: ObjectDefinition): void {
    checkDefinition(def);
    this.objects.set(def.id, def);
  }

  getObject(objectId: number): ObjectDefinition | undefined {
    return this.objects.get(objectId);
  }

  getResource(objectId: number, resourceId: number): ResourceDefinition | undefined {
    const o = this.objects.get(objectId);
    return o ? o.resources[resourceId] : undefined;
  }

  /** All definitions, by ascending object id. */
  list(): ObjectDefinition[] {
    return [...this.objects.values()].sort((a, b) => a.id - b.id);
  }

  /** A new registry with the same definitions, to extend without touching this one. */
  clone(): ObjectRegistry {
    return new ObjectRegistry(this.list());
  }
}

/** The OMA core objects 0, 1, 2, 3, 4, 5, 11 and 21, from lib/model/xml. */
export const defaultModel: ObjectRegistry = new ObjectRegistry(generatedObjects);
