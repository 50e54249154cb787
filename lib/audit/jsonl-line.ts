/**
 * One audit line: exactly `JSON.stringify({ ...record, listenerId }) + '\n'`, without building that object
 * (one per ended session): the record's own JSON with the listener id's key put before its closing brace.
 *
 * JSON.stringify makes the record's text. A hand-made encoder that skipped JSON.stringify for the steps was
 * cheaper in itself, but its line was a string of many pieces: joining the batch and the garbage collector
 * paid back what it saved (the bench's profile, 5000 devices: writeBatch 0.4% -> 1.1-1.4%, garbage collector
 * 4.0% -> 4.8-6.6%).
 */
import type { AuditRecord } from '../bootstrap/audit';

export class AuditLineEncoder {
  /** Listener ids as JSON strings (a runtime has a handful). */
  private readonly ids = new Map<string, string>();

  /** `JSON.stringify({ ...record, listenerId }) + '\n'` (no listenerId key when it is undefined). */
  line(record: AuditRecord, listenerId?: string): string {
    if (listenerId === undefined) return JSON.stringify(record) + '\n';
    // A prototype or toJSON of its own, a listenerId already (the spread keeps its place): as the spread does.
    if (Object.getPrototypeOf(record) !== Object.prototype || 'toJSON' in record || Object.prototype.hasOwnProperty.call(record, 'listenerId')) {
      return JSON.stringify({ ...record, listenerId }) + '\n';
    }
    const text = JSON.stringify(record);
    const id = this.id(listenerId);
    return text === '{}' ? `{"listenerId":${id}}\n` : `${text.slice(0, -1)},"listenerId":${id}}\n`;
  }

  private id(listenerId: string): string {
    let q = this.ids.get(listenerId);
    if (q === undefined) {
      q = JSON.stringify(listenerId);
      if (this.ids.size < 1024) this.ids.set(listenerId, q);
    }
    return q;
  }
}
