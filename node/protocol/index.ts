/** node/protocol: pure, browser-safe protocol code. No I/O. */
export * from './bytes';
export * from './canonical';
export * from './errors';
export * from './hash';
export * from './merkle';
export * from './record';
export * from './subject';
export * from './formats';
export * from './signatures';
export * from './state-map';
export * from './chain';
export { loadBundle, BundleFormatError } from './bundle-schema';
export * from './timestamp';
export * from './timestamp-evidence';
export * from './checkpoint-evidence';
export * from './operator-profile';
