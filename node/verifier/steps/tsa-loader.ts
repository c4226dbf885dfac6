/**
 * Where the time-evidence step gets the RFC 3161 checks from. Here (Node: the CLI, the API, tests) a
 * plain import. The browser page's build swaps this module for api/page/tsa-loader.ts, which imports
 * them on demand, so the page fetches the CMS code (pkijs, ~400 KB) only for a bundle with tokens.
 */
import { checkTimeEvidence } from '../../protocol/timestamp-evidence';

export const loadCheckTimeEvidence = async (): Promise<typeof checkTimeEvidence> => checkTimeEvidence;
