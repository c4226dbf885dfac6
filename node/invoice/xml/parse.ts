/**
 * Safe parsing of an issuing platform's invoice XML into a small element tree. Pure: bytes in, tree
 * or refusal out; nothing is ever fetched, opened or resolved.
 *
 * The parser is saxes (a maintained, strict XML 1.0 well-formedness parser; it has no DTD processor,
 * so it never reads an external subset or expands a declared entity). On top of it, this profile:
 * - refuses any DOCTYPE outright (stops XXE, external DTDs and "billion laughs" entity expansion
 *   before they start: a document type declaration is the only place entities can be declared);
 * - refuses processing instructions other than the XML declaration (e.g. xml-stylesheet);
 * - accepts UTF-8 only (the encoding declaration must be absent or UTF-8; invalid UTF-8 is refused);
 * - bounds size, depth, element count, attributes per element and text per element, so a hostile
 *   document costs at most linear time in a bounded input.
 * Every refusal is an XmlRefusal with a code and, where known, the XML path it happened at.
 */
import { SaxesParser } from 'saxes';

export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
  maxAttributes: number;
  maxTextChars: number;
}

export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  // A 2000-line invoice is about 1.5 MB; the route's own body limit may be lower.
  maxBytes: 4 * 1024 * 1024,
  maxDepth: 32,
  maxElements: 100_000,
  maxAttributes: 32,
  maxTextChars: 64 * 1024,
});

export interface XmlElement {
  name: string;
  /** XPath-like location, e.g. /EInvoice/EInvoiceData/IssuItemInformation[2]/Amount ([n] only where a name repeats among siblings). */
  path: string;
  attributes: [string, string][];
  children: XmlElement[];
  /** The element's own character data (CDATA included), not its children's. */
  text: string;
}

export type XmlRefusalCode = 'XML_TOO_LARGE' | 'XML_ENCODING' | 'XML_MALFORMED' | 'XML_DTD_FORBIDDEN' | 'XML_PI_FORBIDDEN' | 'XML_LIMIT';

export class XmlRefusal extends Error {
  override readonly name = 'XmlRefusal';
  constructor(
    readonly code: XmlRefusalCode,
    message: string,
    /** XML path where it happened ('/' for the document itself). */
    readonly xmlPath: string = '/',
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Building {
  name: string;
  attributes: [string, string][];
  children: Building[];
  text: string;
}

/** Decodes UTF-8 strictly (a UTF-8 byte order mark is dropped); refuses UTF-16/32 and any other declared encoding. */
function decode(bytes: Uint8Array): string {
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) {
    throw new XmlRefusal('XML_ENCODING', 'the document is UTF-16; only UTF-8 invoice XML is accepted');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new XmlRefusal('XML_ENCODING', 'the document is not valid UTF-8');
  }
  const decl = /^<\?xml\s[^?]*encoding\s*=\s*["']([^"']*)["']/.exec(text);
  if (decl && decl[1]!.toLowerCase() !== 'utf-8' && decl[1]!.toLowerCase() !== 'utf8') {
    throw new XmlRefusal('XML_ENCODING', `the document declares encoding ${JSON.stringify(decl[1])}; only UTF-8 is accepted`);
  }
  return text;
}

/** Parses invoice XML bytes under `limits`. Throws XmlRefusal for anything outside the profile. */
export function parseXml(bytes: Uint8Array, limits: Partial<XmlLimits> = {}): XmlElement {
  const lim: XmlLimits = { ...DEFAULT_XML_LIMITS, ...limits };
  if (bytes.length > lim.maxBytes) throw new XmlRefusal('XML_TOO_LARGE', `the document has ${bytes.length} bytes; at most ${lim.maxBytes}`, '/', { maxBytes: lim.maxBytes, size: bytes.length });
  if (bytes.length === 0) throw new XmlRefusal('XML_MALFORMED', 'the document is empty');
  const text = decode(bytes);

  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Building[] = [];
  let root: Building | undefined;
  let elements = 0;
  let failure: XmlRefusal | undefined;
  const where = (): string => '/' + stack.map((b) => b.name).join('/');
  const fail = (e: XmlRefusal): void => {
    failure ??= e;
  };

  parser.on('doctype', () => fail(new XmlRefusal('XML_DTD_FORBIDDEN', 'a DOCTYPE is not accepted in invoice XML (no DTDs, entity declarations or external references)', where())));
  parser.on('processinginstruction', (pi) => fail(new XmlRefusal('XML_PI_FORBIDDEN', `processing instruction <?${pi.target} …?> is not accepted`, where())));
  parser.on('opentag', (tag) => {
    if (failure) return;
    elements++;
    if (elements > lim.maxElements) return fail(new XmlRefusal('XML_LIMIT', `more than ${lim.maxElements} elements`, where(), { limit: 'maxElements' }));
    if (stack.length + 1 > lim.maxDepth) return fail(new XmlRefusal('XML_LIMIT', `elements nested deeper than ${lim.maxDepth}`, where(), { limit: 'maxDepth' }));
    const attrs = Object.entries(tag.attributes as Record<string, string>);
    if (attrs.length > lim.maxAttributes) return fail(new XmlRefusal('XML_LIMIT', `more than ${lim.maxAttributes} attributes on <${tag.name}>`, where(), { limit: 'maxAttributes' }));
    const el: Building = { name: tag.name, attributes: attrs, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  const onText = (t: string): void => {
    if (failure) return;
    const cur = stack[stack.length - 1];
    if (!cur) return; // whitespace outside the root (saxes refuses anything else there)
    if (cur.text.length + t.length > lim.maxTextChars) return fail(new XmlRefusal('XML_LIMIT', `more than ${lim.maxTextChars} characters of text in one element`, where(), { limit: 'maxTextChars' }));
    cur.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (!failure) stack.pop();
  });
  parser.on('error', (err) => {
    // saxes reports "line:column: message"; the position is kept in the message.
    fail(new XmlRefusal('XML_MALFORMED', `not well-formed XML: ${err.message}`, where()));
  });

  // Write in slices so a refusal (a DOCTYPE at the top, a limit) stops the work early.
  const SLICE = 64 * 1024;
  for (let i = 0; i < text.length && !failure; i += SLICE) parser.write(text.slice(i, i + SLICE));
  if (!failure) parser.close();
  if (failure) throw failure;
  if (!root) throw new XmlRefusal('XML_MALFORMED', 'the document has no root element');
  return finish(root, '');
}

function finish(b: Building, parentPath: string, step?: string): XmlElement {
  const path = `${parentPath}/${step ?? b.name}`;
  const counts = new Map<string, number>();
  for (const c of b.children) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  const children = b.children.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    return finish(c, path, counts.get(c.name)! > 1 ? `${c.name}[${n}]` : c.name);
  });
  return { name: b.name, path, attributes: b.attributes, children, text: b.text };
}
