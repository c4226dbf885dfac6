/** canonical-bytes (docs/protocol.md §1): the record's RFC 8785 (JCS) bytes; or why there is no record. */
import { canonicalBytes } from '../../protocol/canonical';
import { describeError, type ItemStep } from '../context';
import { DEPOSIT_KIND, custodyKind } from '../../evidence/history';
import { STATE_ROOT_KIND } from '../../protocol/state-map';

const ERASED_KIND = custodyKind('erased');

export const canonicalBytesStep: ItemStep = {
  name: 'canonical-bytes',
  run(ctx) {
    const { b, it } = ctx;
    if ((it.record === null || it.salt === null) && it.entry.kind === STATE_ROOT_KIND) {
      // A state.root entry has no record: its commitment IS the state map's root (a status proof's state-map step checks it).
      ctx.missing = { why: 'a state.root entry has no record: its commitment is the state map root itself, checked by the state-map step of a status proof', erased: true };
      ctx.skip('canonical-bytes', ctx.missing.why);
      return;
    }
    if (it.record === null || it.salt === null) {
      // Anyone can write null into a bundle. Only an evidence deposit may be erased (DELETE …/content),
      // and the erasure is itself a logged custody event: without it in the bundle, a missing record is a
      // record withheld, not erased.
      const erasedBy = it.entry.kind === DEPOSIT_KIND ? b.items.find((x) => x.index > it.index && x.entry.subject === it.entry.subject && x.entry.kind === ERASED_KIND) : undefined;
      if (!erasedBy) {
        const why =
          it.entry.kind === DEPOSIT_KIND
            ? 'record and salt are missing, but the bundle holds no evidence.custody.erased event for this deposit: the record is withheld, not erased'
            : `record and salt are missing; only an evidence deposit can be erased, never a ${it.entry.kind} record`;
        ctx.missing = { why, erased: false };
      } else {
        const why = `content erased (crypto-shredded, log index ${erasedBy.index}): record and salt are gone; the entry still proves that a ${it.entry.kind} record about this subject was logged at ${it.entry.at}, not what it said`;
        ctx.missing = { why, erased: true };
      }
      ctx.skip('canonical-bytes', ctx.missing.why);
      return;
    }
    try {
      ctx.bytes = canonicalBytes(it.record);
      ctx.ok({ name: 'canonical-bytes', detail: `${ctx.bytes.length} bytes of RFC 8785 (JCS) canonical JSON` });
    } catch (err) {
      ctx.fail({ name: 'canonical-bytes', ...describeError(err) });
    }
  },
};
