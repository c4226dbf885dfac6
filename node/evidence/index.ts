/** node/evidence: evidence content store, data model, custody rules, collector signatures. */
export * from './blob-store';
export * from './model';
export * from './custody';
export * from './signature';
export * from './service';
