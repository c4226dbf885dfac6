/** The auditor's toolkit (`tianfu audit`, `tianfu export`): replay engine, chain reads, sources, state. No store, no API. */
export * from './engine';
export * from './tree-replay';
export * from './receipt-verifier';
export * from './chain';
export * from './export-format';
export * from './sources';
export * from './state';
export * from './exporter';
export * from './run';
