/**
 * Answers a Bootstrap-Pack-Request (GET /bspack) with the whole configuration of msg.profile, encoded in
 * the format the client accepted. Used by object-write and bootstrap-finish alike.
 */
import { buildBootstrapPack, validatedProfile, ProfileError, refusedEdit, type ValidatedProfile } from './lib';
import type { ListenerNode, Lwm2mMsgInfo, Lwm2mStep } from './session-ref';

export async function answerPack(listener: ListenerNode, info: Lwm2mMsgInfo, profile: unknown): Promise<Lwm2mStep> {
  const req = listener.getPackRequest(info.sessionId);
  const p = checkedProfile(profile);
  const started = Date.now();
  const root = buildBootstrapPack(p);
  await req.respond(root);
  listener.releasePackRequest(info.sessionId);
  return {
    op: 'pack',
    method: 'GET',
    path: '/bspack',
    contentFormat: req.accept,
    code: '2.05',
    success: true,
    ms: Date.now() - started,
  };
}

/**
 * msg.profile as a ValidatedProfile: profile-lookup's is one already (a read-only view of a frozen profile,
 * so no node since can have changed it) and is not checked again; any other (a function node's, a copy) is
 * checked here, once. A view through which a node tried to write fails here too: a node that swallows the
 * error (the change node does) would otherwise send the old profile on as if the edit had been made; as a
 * ProfileError, so object-write ends the session at once (5.00) as for an invalid profile.
 */
export function checkedProfile(profile: unknown): ValidatedProfile {
  if (profile === undefined || profile === null) {
    throw new ProfileError([{ pointer: '', message: 'msg.profile is missing: put a profile-lookup node before this one' }]);
  }
  const refused = refusedEdit(profile);
  if (refused) throw new ProfileError([{ pointer: refused.pointer, message: refused.message }]);
  return validatedProfile(profile);
}
