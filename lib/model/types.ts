/**
 * The typed LwM2M data model shared by codecs, profiles, the bootstrap session and the simulated client.
 *
 * Two halves:
 *  - definitions (what an object *is*: generated from the OMA registry XML into objects.generated.ts);
 *  - instance trees (what a device *holds*, or what a payload carries).
 */

/** LwM2M resource data types, as named in the registry XML (lower-cased, "Unsigned Integer" -> unsigned). */
export type ResourceType =
  | 'string'
  | 'integer'
  | 'unsigned'
  | 'float'
  | 'boolean'
  | 'opaque'
  | 'time'
  | 'objlnk'
  | 'corelnk'
  | 'none';

export type Operations = '' | 'R' | 'W' | 'RW' | 'E';

export interface ResourceDefinition {
  id: number;
  name: string;
  operations: Operations;
  multiple: boolean;
  mandatory: boolean;
  type: ResourceType;
  rangeEnumeration?: string;
  units?: string;
  description?: string;
}

export interface ObjectDefinition {
  id: number;
  name: string;
  urn: string;
  /** Object version, e.g. "1.1" (defaults to "1.0"). */
  version: string;
  /** LwM2M enabler version the definition targets, e.g. "1.1". */
  lwm2mVersion: string;
  multiple: boolean;
  mandatory: boolean;
  resources: Record<number, ResourceDefinition>;
}

/** Lookup of object/resource definitions. Unknown objects/resources return undefined. */
export interface ObjectModel {
  getObject(objectId: number): ObjectDefinition | undefined;
  getResource(objectId: number, resourceId: number): ResourceDefinition | undefined;
}

/** Object link value `OID:IID`. The null link is 65535:65535. */
export interface ObjLnk {
  objectId: number;
  instanceId: number;
}

/**
 * One resource (instance) value. How each LwM2M type is held in memory:
 *  string, corelnk -> string; integer, unsigned, time -> number (bigint when outside the safe integer range);
 *  float -> number; boolean -> boolean; opaque -> Buffer; objlnk -> ObjLnk.
 */
export type ResourceValue = string | number | bigint | boolean | Buffer | ObjLnk;

export interface SingleResource {
  kind: 'single';
  id: number;
  /** The type the value was decoded/created as (from the model; 'opaque' when the model does not know it). */
  type: ResourceType;
  value: ResourceValue;
}

export interface MultipleResource {
  kind: 'multiple';
  id: number;
  type: ResourceType;
  /** Resource instances by resource instance id. */
  instances: Map<number, ResourceValue>;
}

export type ResourceNode = SingleResource | MultipleResource;

export interface ObjectInstanceNode {
  kind: 'instance';
  id: number;
  resources: Map<number, ResourceNode>;
}

export interface ObjectNode {
  kind: 'object';
  id: number;
  instances: Map<number, ObjectInstanceNode>;
}

/** A single resource instance addressed by /o/i/r/ri. */
export interface ResourceInstanceNode {
  kind: 'resourceInstance';
  id: number;
  type: ResourceType;
  value: ResourceValue;
}

/** A whole tree (Bootstrap-Pack, a composite SenML payload rooted at /). */
export interface RootNode {
  kind: 'root';
  objects: Map<number, ObjectNode>;
}

export type LwM2mNode = RootNode | ObjectNode | ObjectInstanceNode | ResourceNode | ResourceInstanceNode;
