/** DTLS figures: placeholder until measured. */
import type { Child } from './ipc';

export async function runDtls(_a: { smoke: boolean; loadgen: Child; root: string }): Promise<{ note: string; [k: string]: unknown }> {
  return { note: 'not yet measured' };
}
