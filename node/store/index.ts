/** node/store: the node's LevelDB database and the RFC 6962 log store kept in it. */
export * from './db';
export * from './log-store';
