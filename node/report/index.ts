/**
 * node/report: the court's verification report (`tianfu.report/v1`), one builder and one HTML
 * renderer shared by `tianfu verify --report`, POST /v1/verify `report: true` and the browser page.
 * Pure and browser-safe: imports node/protocol, node/verifier's types and the qrcode encoder only.
 */
export { buildCourtReport, bundleDigest, chainName, qrTextFor, type ReportInputs } from './build';
export { renderReportHtml, reportFromHtml, qrSvg } from './html';
export { ITEM_TEXT, LIMITATIONS, REPORT_TITLE, STATUS_LABEL } from './labels';
export * from './types';
