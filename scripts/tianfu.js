#!/usr/bin/env node
// `tianfu` CLI entry (package.json bin): runs the TypeScript CLI through tsx.
require('tsx/cjs');
require('./tianfu.ts');
