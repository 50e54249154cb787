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
  BootstrapServer,
  BootstrapSession,
  BootstrapPackRequest,
  runBootstrap,
  SessionOutcome,
  SessionNotFoundError,
  SessionEndedError,
  RequestTimeoutError,
} from '../../lib/bootstrap';
export type {
  BootstrapDownlinkRequest,
  BootstrapResponse,
  BootstrapServerOptions,
  RunStep,
  SendResult,
} from '../../lib/bootstrap';
export {
  validateProfile,
  ProfileError,
  applyTemplate,
  generatePskCredentials,
  buildBootstrapPack,
  contentFormatFor,
} from '../../lib/profile';
export type { BootstrapProfile, ProfileIssue } from '../../lib/profile';
