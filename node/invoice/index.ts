/** The e-invoice domain: model and validation, registry key, lifecycle rules, replay, public view. Pure. */
export * from './money';
export * from './tax-id';
export * from './key';
export * from './schema';
export * from './lifecycle';
export * from './replay';
export * from './public-status';
export * from './service';
