/**
 * Types for the two parts of the `qrcode` package the report uses directly (its encoder and its SVG
 * renderer): synchronous and free of Node and DOM dependencies, so the same code runs in the browser
 * page. The package's own types (@types/qrcode) describe only its top-level API.
 */
declare module 'qrcode/lib/core/qrcode' {
  import type { QRCode, QRCodeOptions } from 'qrcode';
  export function create(text: string, options?: QRCodeOptions): QRCode;
}

declare module 'qrcode/lib/renderer/svg-tag' {
  import type { QRCode, QRCodeRenderersOptions } from 'qrcode';
  export function render(qr: QRCode, options?: QRCodeRenderersOptions): string;
}
