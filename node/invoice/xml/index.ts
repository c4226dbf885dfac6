/** 数电票 XML import: safe parsing, tag mapping, and the importer that keeps the original bytes provable. */
export * from './parse';
export * from './map';
export * from './import';
