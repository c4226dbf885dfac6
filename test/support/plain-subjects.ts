/**
 * The other side of the pseudonymous-subject cut-over, for tests of logs that hold both forms: a
 * second sequencer over a running ledger's store whose invoice rules do not ask for pseudonyms, so
 * it writes invoice entries with the plain invoice key as subject, as nodes did before. Invoices it
 * registers keep their plain subject for life when the ledger's own sequencer appends to them later.
 * Use it only between awaited calls (one flush at a time across both sequencers).
 */
import { Sequencer, type DomainRules, type Hex, type Ledger } from '../../node';
import { createInvoiceRules } from '../../node/invoice';
import { evidenceRules } from '../../node/evidence';

export function openPlainSubjectSequencer(ledger: Ledger): Promise<Sequencer> {
  const rules: DomainRules<unknown>[] = [
    { ...createInvoiceRules(), pseudonymousSubjects: false } as unknown as DomainRules<unknown>,
    evidenceRules as unknown as DomainRules<unknown>,
  ];
  return Sequencer.open({ db: ledger.db, log: ledger.log, logId: ledger.logId, operatorKey: ledger.operator.privateKey as Hex, rules, signingWorkers: 0, stateMap: ledger.sequencer.stateMap ?? undefined });
}
