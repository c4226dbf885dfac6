/** node/state: the state map (sparse Merkle tree over every subject's state leaf) and its replay. */
export * from './smt';
export * from './state-map-store';
export * from './replay';
