/** Input rules shared by every entry point (HTTP bodies, the multipart metadata part, imports). */
export * from './text';
export * from './strict-json';
