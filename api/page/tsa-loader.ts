/**
 * The browser page's node/verifier/steps/tsa-loader.ts (scripts/build-page.ts swaps it in): the RFC
 * 3161 checks are a chunk of their own, imported the first time a bundle carries a token.
 */
import type { checkTimeEvidence } from '../../node/protocol/timestamp-evidence';

export const loadCheckTimeEvidence = async (): Promise<typeof checkTimeEvidence> => (await import('../../node/protocol/timestamp-evidence')).checkTimeEvidence;
