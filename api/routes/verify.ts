/**
 * POST /v1/verify: the same verifier as `tianfu verify` and the browser page, run by the node for
 * clients that cannot run it themselves. It reads the chain through the node's RPC endpoint, so a
 * party that does not trust this node should verify with the CLI or the page against its own RPC.
 *
 * Trust is pinned to this ledger's own registry and log unless the request says otherwise
 * (`trust`): a bundle anchored in a registry somebody else deployed is invalid here, as it is for
 * `tianfu verify --registry --log-id`. `"trust": {}` verifies against whatever the bundle names (the
 * report's limits then say so).
 */
import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, problemResponses } from '../openapi';
import { Address, Hex32 } from '../schemas';
import { parseOr422 } from '../validate';
import { HttpProblem } from '../problem';
import { BundleFormatError, ChainReadError, certificatesFromPem, loadBundle, sha256, toHex, verifyBundle, type Hex, type Ledger, type VerifyFileDigests } from '../../node';
import { chainReaderFromProvider } from '../../node/chain/chain-reader';
import { domainHistoryRules } from '../../node/verifier';
import { recoverEip191Signer } from '../../node/crypto/eip191';
import { buildCourtReport, renderReportHtml } from '../../node/report';
import { CODE_OF, verifierCodeSha256, verifierVersion } from '../../node/print/code-digest';
import { PdfUnavailableError } from '../../node/print/pdf';

const VerifyRequest = z
  .strictObject({
    bundle: z.record(z.string(), z.unknown()),
    file: z.strictObject({ sha256: Hex32, sm3: Hex32.optional(), size: z.number().int().min(0).optional() }).optional(),
    confirmations: z.number().int().min(1).max(10_000).optional(),
    trust: z
      .strictObject({
        registry: Address.optional(),
        logId: Hex32.optional(),
      })
      .optional()
      .openapi({ description: "the registry and log to trust; default this ledger's own. {} trusts what the bundle names" }),
    tsaCa: z
      .string()
      .min(1)
      .max(256 * 1024)
      .optional()
      .openapi({ description: 'PEM of the TSA root certificates to trust (as tianfu verify --tsa-ca): the bundle\'s RFC 3161 tokens must chain to one of them' }),
    report: z
      .boolean()
      .optional()
      .openapi({ description: 'answer the court report (tianfu.report/v1, the 15 checklist items, holding this verification) instead of the verification alone: JSON, or with Accept: text/html its HTML, with Accept: application/pdf the PDF printed from that HTML' }),
  })
  .openapi('VerifyRequest');

export function registerVerifyOpenApi(r: OpenAPIRegistry): void {
  r.registerPath({
    method: 'post',
    path: '/v1/verify',
    summary: 'Verify a tianfu.bundle/v1 against the chain (same code as the CLI and the browser page)',
    request: { body: { content: { 'application/json': { schema: VerifyRequest } } } },
    responses: {
      200: {
        description: 'a tianfu.verification/v1 report (any verdict); with report: true a tianfu.report/v1 (JSON, HTML or PDF by Accept)',
        content: { 'application/json': { schema: { type: 'object' } }, 'text/html': { schema: { type: 'string' } }, 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
      },
      ...problemResponses(400, 422, 503),
    },
  });
}

export function verifyRouter(ledger: Ledger): Router {
  const r = Router();
  const chain = chainReaderFromProvider(ledger.provider);
  const own = { registry: ledger.chain.registry.toLowerCase() as Hex, logId: ledger.logId };
  r.post('/verify', async (req, res) => {
    const body = parseOr422(VerifyRequest, req.body);
    let bundle: ReturnType<typeof loadBundle>;
    try {
      bundle = loadBundle(body.bundle);
    } catch (err) {
      if (err instanceof BundleFormatError) {
        throw new HttpProblem(err.code, err.message, { errors: [{ path: ['body', 'bundle', ...String(err.path ?? '').split(/[.[\]]+/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))], message: err.message, code: err.code }] });
      }
      throw err;
    }
    const tsaTrustAnchors = body.tsaCa !== undefined ? certificatesFromPem(body.tsaCa) : undefined;
    if (tsaTrustAnchors !== undefined && tsaTrustAnchors.length === 0) {
      throw new HttpProblem('VALIDATION', 'tsaCa holds no PEM CERTIFICATE block', { errors: [{ path: ['body', 'tsaCa'], message: 'no PEM CERTIFICATE block', code: 'VALIDATION' }] });
    }
    try {
      const trust = body.trust ? { ...(body.trust.registry ? { registry: body.trust.registry as Hex } : {}), ...(body.trust.logId ? { logId: body.trust.logId as Hex } : {}) } : own;
      const report = await verifyBundle(bundle, { chain, ...(body.file ? { file: body.file as VerifyFileDigests } : {}), confirmations: body.confirmations ?? ledger.config.confirmations, history: domainHistoryRules, trust, recoverSigner: recoverEip191Signer, ...(tsaTrustAnchors ? { tsaTrustAnchors } : {}) });
      if (!body.report) return void res.json(report);
      const court = buildCourtReport(bundle, report, {
        verifier: { name: 'tianfu verify', version: verifierVersion(), surface: `POST /v1/verify on the node ${ledger.logId.slice(0, 10)}… (it read the chain through the node's own RPC endpoint)`, codeSha256: verifierCodeSha256(), codeOf: CODE_OF },
        command: `npx tianfu verify bundle.json${body.file ? ' --file <the evidence file>' : ''} --rpc <a JSON-RPC endpoint of chain ${bundle.log.chainId}> --confirmations ${body.confirmations ?? ledger.config.confirmations}${body.trust === undefined ? ` --registry ${own.registry} --log-id ${own.logId}` : ''}${body.tsaCa ? ' --tsa-ca tsa-ca.pem' : ''} --json`,
        inputs: [
          ...(body.file ? [{ zh: '证据文件摘要（由请求方给出）', en: 'evidence file digests (as the caller gave them)', value: `SHA-256 ${body.file.sha256}${body.file.sm3 ? `, SM3 ${body.file.sm3}` : ''}` }] : []),
          ...(body.tsaCa ? [{ zh: '时间戳根证书 SHA-256', en: 'TSA trust anchors SHA-256', value: toHex(sha256(new TextEncoder().encode(body.tsaCa))) }] : []),
          { zh: '信任的登记合约 / 日志', en: 'registry / log trusted', value: `${trust.registry ?? 'the bundle\'s'} / ${trust.logId ?? 'the bundle\'s'}` },
        ],
        verificationPage: `${req.protocol}://${req.get('host') ?? 'localhost'}/`,
      });
      const accept = req.accepts(['application/json', 'text/html', 'application/pdf']);
      if (accept === 'text/html') return void res.type('text/html; charset=utf-8').send(renderReportHtml(court));
      if (accept === 'application/pdf') {
        try {
          return void res.type('application/pdf').send(await ledger.printer.print(renderReportHtml(court)));
        } catch (err) {
          if (err instanceof PdfUnavailableError) throw new HttpProblem('PDF_UNAVAILABLE', err.message);
          throw err;
        }
      }
      res.json(court);
    } catch (err) {
      if (err instanceof ChainReadError) throw new HttpProblem('CHAIN_UNAVAILABLE', `cannot read the chain: ${err.message}`);
      throw err;
    }
  });
  return r;
}
