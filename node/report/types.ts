/**
 * The court's verification report (`tianfu.report/v1`): the 15 items of the verification checklist
 * (docs/report.md), each with its status and the raw values it rests on, built from ONE
 * verification (`tianfu.verification/v1`) and the bundle it verified. Pure data: the HTML (and, from
 * it, the PDF) is rendered by html.ts, the same code in the CLI, the API and the browser page.
 */
import type { Hex } from '../protocol/bytes';
import type { VerificationReport, VerificationStep } from '../verifier/types';

export const COURT_REPORT_TYPE = 'tianfu.report/v1' as const;

export type ItemStatus = 'PASS' | 'FAIL' | 'NOT APPLICABLE' | 'NOT PROVIDED';

/** A label in both languages: 简体中文 first, English beside. */
export interface Label {
  zh: string;
  en: string;
}

/** One raw value an item rests on. */
export interface ReportValue extends Label {
  value: string;
}

/** A table of raw values (custody events, per-item leaves). */
export interface ReportTable {
  caption: Label;
  columns: Label[];
  rows: string[][];
}

export interface ReportItem {
  /** 1–15, the checklist's order. */
  n: number;
  key: string;
  title: Label;
  /** What the item checks, in one sentence each language. */
  checks: Label;
  status: ItemStatus;
  /** Why this status, in words (English; the labels around it are bilingual). */
  summary: string;
  values: ReportValue[];
  tables: ReportTable[];
  /** The verification steps this item rests on, as the verifier reported them. */
  steps: VerificationStep[];
}

/** Who verified, with what, and how to do it again (item 13). */
export interface ReproducibilityPack {
  verifier: {
    name: string;
    version: string;
    /** Where it ran: tianfu verify (CLI), POST /v1/verify (node), the browser page. */
    surface: string;
    /**
     * SHA-256 of the verifier's own code: of the manifest of its source files (docs/report.md says
     * how to recompute it with sha256sum); null when this surface cannot tell.
     */
    codeSha256: Hex | null;
    /** What codeSha256 is the digest of. */
    codeOf: string;
    /** The browser page: SHA-256 of the script it ran, as fetched. */
    scriptSha256?: Hex;
  };
  /** The exact command that reruns this verification. */
  command: string;
  inputs: ReportValue[];
}

export interface CourtReport {
  type: typeof COURT_REPORT_TYPE;
  /** SHA-256(JCS(bundle)) of the bundle verified: what the QR code carries. */
  bundleDigest: Hex;
  /** Where the verification page is (the QR code's link), null when not known. */
  verificationPage: string | null;
  /** The text the QR code encodes. */
  qrText: string;
  title: Label;
  verdict: VerificationReport['verdict'];
  verifiedAt: string;
  items: ReportItem[];
  reproducibility: ReproducibilityPack;
  /** The fixed limitations statement (item 15), both languages. */
  limitations: readonly Label[];
  /** The verification itself, exactly as `tianfu verify --json` prints it. */
  verification: VerificationReport;
}
