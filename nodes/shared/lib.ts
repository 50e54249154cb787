/**
 * The library surface the nodes use, in one place: nodes import from here, this file imports from lib/.
 */
export { Lwm2mError } from '../../lib/errors';
export { defaultModel } from '../../lib/model/registry';
export { nodeFromJson, nodeToJson } from '../../lib/model/tree';
export type { LwM2mNode } from '../../lib/model/types';
export {
  BootstrapDeleteRequest,
  BootstrapDiscoverRequest,
  BootstrapReadRequest,
  BootstrapWriteRequest,
  BootstrapFinishRequest,
} from '../../lib/bootstrap/requests';
export type { BootstrapDownlinkRequest, BootstrapResponse } from '../../lib/bootstrap/requests';
export {
  BootstrapServer,
  BootstrapSession,
  runBootstrap,
  SessionOutcome,
  SessionNotFoundError,
} from '../../lib/bootstrap';
export type { BootstrapServerOptions, BootstrapPackRequest } from '../../lib/bootstrap';
export {
  validateProfile,
  applyTemplate,
  buildBootstrapPack,
  generatePskCredentials,
  contentFormatFor,
  ProfileError,
} from '../../lib/profile';
export type { BootstrapProfile, ProfileIssue } from '../../lib/profile';
