/**
 * The browser verification page: a judge opens it, picks the bundle (and the evidence file), and the
 * page runs the SAME verifier as `tianfu verify` (node/verifier/) in the browser. The file is
 * hashed locally — it never leaves the judge's machine — and the chain is read over JSON-RPC directly,
 * not through the ledger's API. A `tianfu.status-proof/v1` (docs/status-proofs.md) picked instead of a
 * bundle is verified as `tianfu verify` does, and the page states what it proves: "as of checkpoint N
 * (block time T): status S, last changed at index i".
 */
import { createSHA256, createSM3 } from 'hash-wasm';
import { toHex, type Hex } from '../../node/protocol/bytes';
import { connectFetchChainReader } from '../../node/chain/fetch-reader';
import { CAPTURE_MANIFEST_PATH, indexCapturePackage, type CapturePackageIndex } from '../../node/protocol/capture-package';
import { domainHistoryRules, isStatusProof, loadBundle, verifyBundle, verifyStatusProof, type StatusVerificationReport, type VerificationReport, type VerifyFileDigests } from '../../node/verifier';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/**
 * SHA-256 and SM3 of the file, streamed through hash-wasm's WebAssembly hashers: any size, in one pass,
 * never more than a chunk in memory, and never uploaded.
 */
async function hashFile(file: File, progress: (done: number) => void): Promise<VerifyFileDigests> {
  const [sha, sm3] = await Promise.all([createSHA256(), createSM3()]);
  sha.init();
  sm3.init();
  const reader = file.stream().getReader();
  let done = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    sha.update(r.value);
    sm3.update(r.value);
    done += r.value.length;
    progress(done);
  }
  return { sha256: toHex(sha.digest('binary')), sm3: toHex(sm3.digest('binary')), size: done };
}

/**
 * The file opened as a capture package, when it is one (a zip holding tianfu/manifest.json, or a
 * deposit whose record names a capture): every entry digested with the same WebAssembly hashers.
 * A package is at most TIANFU_CAPTURE_MAX_BYTES plus its screenshot and snapshots, so it is read whole.
 */
async function capturePackageOf(file: File, bundle: { items: { record: Record<string, unknown> | null }[] }): Promise<CapturePackageIndex | undefined> {
  const declared = typeof bundle.items[0]?.record?.capture === 'object';
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  const isZip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  if (!declared && !isZip) return undefined;
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (!declared && !new TextDecoder('latin1').decode(bytes).includes(CAPTURE_MANIFEST_PATH)) return undefined;
  const [sha, sm3] = await Promise.all([createSHA256(), createSM3()]);
  const one = (h: typeof sha) => (b: Uint8Array): Hex => {
    h.init();
    h.update(b);
    return toHex(h.digest('binary')) as Hex;
  };
  return indexCapturePackage(bytes, { sha256: one(sha), sm3: one(sm3) });
}

function el(tag: string, text: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function render(report: VerificationReport | StatusVerificationReport): void {
  const out = $('result');
  out.replaceChildren();
  const verdict = el('div', `Verdict: ${report.verdict.toUpperCase()}`, `verdict ${report.verdict}`);
  verdict.id = 'verdict';
  verdict.dataset.verdict = report.verdict;
  out.append(verdict);
  if ('status' in report) {
    // A status proof: the one sentence it proves (or would prove: a refused proof proves nothing).
    const st = el('p', `${report.verdict === 'valid' ? 'Status' : 'Claimed status (not proven)'}: ${report.status.statement}`, 'status-statement');
    st.id = 'status-statement';
    st.dataset.present = String(report.status.present);
    out.append(st);
  }
  if (report.firstFailure) {
    const f = report.firstFailure;
    const ff = el('p', `First ${f.status} step: ${f.name}${f.item !== undefined ? ` (item ${f.item})` : ''} — ${f.detail}`);
    ff.id = 'first-failure';
    ff.dataset.step = f.name;
    out.append(ff);
  }
  if ('capture' in report && report.capture) {
    const c = report.capture;
    const box = document.createElement('div');
    box.id = 'capture';
    box.dataset.status = c.status;
    box.append(el('h3', 'Web capture'));
    box.append(el('p', `capture ${c.captureId ?? '?'}: ${c.status}`));
    if (c.finalUrl) box.append(el('p', `final URL ${c.finalUrl}`));
    if (c.window) {
      const w = el('p', `captured in [${c.window.from}, ${c.window.to ?? 'not anchored yet'}] (after block ${c.window.startBlock}${c.window.anchorBlock ? `, before block ${c.window.anchorBlock}` : ''})`);
      w.id = 'capture-window';
      box.append(w);
    }
    if (c.originFingerprint256) {
      const f = el('p', `origin certificate SHA-256 ${c.originFingerprint256}`);
      f.id = 'capture-fingerprint';
      f.dataset.fingerprint = c.originFingerprint256;
      box.append(f);
    }
    const list = document.createElement('ul');
    list.id = 'capture-artifacts';
    for (const a of c.artifacts) {
      const li = el('li', `${a.path} (${a.mediaType}, ${a.size} bytes): ${a.status}`);
      li.dataset.path = a.path;
      li.dataset.status = a.status;
      list.append(li);
    }
    box.append(list);
    out.append(box);
  }
  out.append(el('h3', 'What this proves'));
  const ul = document.createElement('ul');
  for (const p of report.proves) ul.append(el('li', p));
  out.append(ul);
  out.append(el('h3', 'Limits'));
  const ul2 = document.createElement('ul');
  for (const p of report.limits) ul2.append(el('li', p));
  out.append(ul2);
  out.append(el('h3', 'Checkpoints'));
  for (const c of report.checkpoints) {
    out.append(el('p', `chain ${c.chainId}, registry ${c.registry}, tree size ${c.treeSize}, root ${c.rootHash}, tx ${c.txHash}, block ${c.blockNumber} (${c.blockTime ?? '?'}, ${c.confirmations ?? '?'} confirmations): ${c.status}`));
  }
  out.append(el('h3', 'Every step'));
  const table = document.createElement('table');
  table.id = 'steps';
  const head = document.createElement('tr');
  for (const h of ['step', 'item', 'status', 'detail']) head.append(el('th', h));
  table.append(head);
  for (const s of report.steps) {
    const tr = document.createElement('tr');
    tr.className = s.status;
    tr.append(el('td', s.name), el('td', s.item === undefined ? '' : String(s.item)), el('td', s.status), el('td', s.detail + (s.expected !== undefined ? ` (expected ${s.expected}, calculated ${s.calculated ?? '?'})` : '')));
    table.append(tr);
  }
  out.append(table);
  const json = el('pre', JSON.stringify(report, null, 2));
  json.id = 'report-json';
  json.hidden = true;
  out.append(json);
}

async function run(): Promise<void> {
  const status = $('status');
  const bundleFile = $<HTMLInputElement>('bundle').files?.[0];
  const evidenceFile = $<HTMLInputElement>('file').files?.[0];
  const rpc = $<HTMLInputElement>('rpc').value.trim();
  $('result').replaceChildren();
  delete status.dataset.error;
  if (!bundleFile) {
    status.textContent = 'Choose a bundle file first.';
    return;
  }
  try {
    // What the judge trusts, typed from the ledger's published address book (as tianfu verify --registry --log-id).
    const registry = $<HTMLInputElement>('registry').value.trim().toLowerCase();
    const logId = $<HTMLInputElement>('log-id').value.trim().toLowerCase();
    if (registry !== '' && !/^0x[0-9a-f]{40}$/.test(registry)) throw new Error('the registry address must be 0x and 40 hex digits');
    if (logId !== '' && !/^0x[0-9a-f]{64}$/.test(logId)) throw new Error('the log id must be 0x and 64 hex digits');
    const trust = { ...(registry ? { registry: registry as Hex } : {}), ...(logId ? { logId: logId as Hex } : {}) };
    status.textContent = 'Reading the bundle…';
    const doc = JSON.parse(await bundleFile.text()) as unknown;
    const confirmations = Number($<HTMLInputElement>('confirmations').value) || 1;
    if (isStatusProof(doc)) {
      if (evidenceFile) throw new Error('a status proof is checked without a file: clear the evidence file');
      status.textContent = `Reading the chain at ${rpc}…`;
      const chain = await connectFetchChainReader(rpc, { timeoutMs: 8000 });
      try {
        const report = await verifyStatusProof(doc, { chain, trust, confirmations });
        status.textContent = `Status proof verified at ${new Date().toISOString()} in this browser.`;
        render(report);
      } finally {
        chain.close();
      }
      return;
    }
    const bundle = loadBundle(doc);
    let file: VerifyFileDigests | undefined;
    if (evidenceFile) {
      file = await hashFile(evidenceFile, (d) => {
        status.textContent = `Hashing the file locally… ${Math.round((100 * d) / Math.max(1, evidenceFile.size))}%`;
      });
    }
    const capture = evidenceFile && bundle.kind === 'evidence' ? await capturePackageOf(evidenceFile, bundle) : undefined;
    status.textContent = `Reading the chain at ${rpc}…`;
    const chain = await connectFetchChainReader(rpc, { timeoutMs: 8000 });
    try {
      const report = await verifyBundle(bundle, { chain, file, ...(capture ? { capture } : {}), history: domainHistoryRules, trust, confirmations });
      status.textContent = `Verified at ${new Date().toISOString()} in this browser.`;
      render(report);
    } finally {
      chain.close();
    }
  } catch (err) {
    status.textContent = `Unusable input: ${(err as Error).message}`;
    status.dataset.error = 'true';
  }
}

$('verify').addEventListener('click', () => {
  void run();
});
