/** The one call of `pngjs` the tests use (reading a PNG that pdftoppm wrote), typed here: the package ships no types. */
declare module 'pngjs' {
  export const PNG: { sync: { read(data: Buffer): { width: number; height: number; data: Buffer } } };
}
