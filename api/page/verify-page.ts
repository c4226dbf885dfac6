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
import type { Bundle } from '../../node/protocol/formats';
import { certificatesFromPem } from '../../node/protocol/pem';

/** Put in by scripts/build-page.ts: the release and the SHA-256 of the verifier's source manifest. */
declare const __TIANFU_VERSION__: string;
declare const __TIANFU_VERIFIER_CODE__: string;

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

/** What the last verification read, for the report button. */
let last: { bundle: Bundle; report: VerificationReport; bundleName: string; bundleSha256: Hex; fileName: string | null; file: VerifyFileDigests | undefined; rpc: string; trust: { registry?: Hex; logId?: Hex }; tsaCaName: string | null; confirmations: number } | null = null;

const sha256Hex = async (bytes: Uint8Array): Promise<Hex> => {
  const h = await createSHA256();
  h.init();
  h.update(bytes);
  return toHex(h.digest('binary'));
};

/** The SHA-256 of the script this page runs, fetched again from where it came. */
async function scriptSha256(): Promise<Hex | undefined> {
  try {
    const res = await fetch(new URL('verify.js', document.baseURI), { cache: 'no-store' });
    return await sha256Hex(new Uint8Array(await res.arrayBuffer()));
  } catch {
    return undefined;
  }
}

/** Builds the court report (tianfu.report/v1) of the last verification and downloads its HTML. */
async function downloadReport(): Promise<void> {
  if (!last) return;
  const x = last;
  const q = (v: string): string => (/^[A-Za-z0-9_./:@=+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const command = ['npx', 'tianfu', 'verify', x.bundleName, ...(x.fileName ? ['--file', x.fileName] : []), '--rpc', x.rpc, '--confirmations', String(x.confirmations), ...(x.trust.registry ? ['--registry', x.trust.registry] : []), ...(x.trust.logId ? ['--log-id', x.trust.logId] : []), ...(x.tsaCaName ? ['--tsa-ca', x.tsaCaName] : []), '--json'].map(q).join(' ');
  const script = await scriptSha256();
  // The report builder and renderer (with the QR encoder) are a chunk of their own, fetched on this click.
  const { buildCourtReport, renderReportHtml } = await import('../../node/report');
  const court = buildCourtReport(x.bundle, x.report, {
    verifier: {
      name: 'tianfu verify',
      version: __TIANFU_VERSION__,
      surface: `the browser verification page at ${location.origin}${location.pathname}, in this browser`,
      codeSha256: __TIANFU_VERIFIER_CODE__ as Hex,
      codeOf: 'the sha256sum manifest of the verifier\'s sources the page was built from (docs/report.md)',
      ...(script ? { scriptSha256: script } : {}),
    },
    command,
    inputs: [
      { zh: '证据包文件 SHA-256', en: 'bundle file SHA-256', value: `${x.bundleSha256} (${x.bundleName})` },
      ...(x.file && x.fileName ? [{ zh: '证据文件 SHA-256 / SM3', en: 'evidence file SHA-256 / SM3', value: `${x.file.sha256} / ${x.file.sm3 ?? '—'} (${x.fileName}, ${x.file.size ?? '?'} bytes, hashed in this browser)` }] : []),
      { zh: '链 RPC', en: 'chain RPC', value: x.rpc },
      { zh: '信任的登记合约 / 日志', en: 'registry / log trusted', value: x.trust.registry || x.trust.logId ? `${x.trust.registry ?? 'the bundle\'s'} / ${x.trust.logId ?? 'the bundle\'s'}` : 'the bundle\'s own (not pinned)' },
    ],
    verificationPage: `${location.origin}${location.pathname}`,
  });
  const blob = new Blob([renderReportHtml(court)], { type: 'text/html;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `tianfu-report-${court.bundleDigest.slice(2, 14)}.html`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

async function run(): Promise<void> {
  const status = $('status');
  const bundleFile = $<HTMLInputElement>('bundle').files?.[0];
  const evidenceFile = $<HTMLInputElement>('file').files?.[0];
  const rpc = $<HTMLInputElement>('rpc').value.trim();
  const tsaCaFile = $<HTMLInputElement>('tsa-ca').files?.[0];
  $('result').replaceChildren();
  last = null;
  $<HTMLButtonElement>('download-report').hidden = true;
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
    const bundleBytes = new Uint8Array(await bundleFile.arrayBuffer());
    const doc = JSON.parse(new TextDecoder().decode(bundleBytes)) as unknown;
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
    const tsaTrustAnchors = tsaCaFile ? certificatesFromPem(await tsaCaFile.text()) : undefined;
    if (tsaTrustAnchors && tsaTrustAnchors.length === 0) throw new Error('the TSA root certificates file holds no PEM CERTIFICATE block');
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
      const report = await verifyBundle(bundle, { chain, file, ...(capture ? { capture } : {}), history: domainHistoryRules, trust, confirmations, ...(tsaTrustAnchors ? { tsaTrustAnchors } : {}) });
      status.textContent = `Verified at ${new Date().toISOString()} in this browser.`;
      render(report);
      last = { bundle, report, bundleName: bundleFile.name, bundleSha256: await sha256Hex(bundleBytes), fileName: evidenceFile?.name ?? null, file, rpc, trust, tsaCaName: tsaCaFile?.name ?? null, confirmations };
      $<HTMLButtonElement>('download-report').hidden = false;
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
$('download-report').addEventListener('click', () => {
  void downloadReport();
});
