/** The XML profile and the tag mapping, without a node: exact yuan → fen and rate → bps, limits, unmapped tags. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { mapInvoiceXml, parseXml, platformTime, rateToBps, xmlPathOf, yuanToFen, XmlRefusal, MAX_UNMAPPED_VALUE } from '../../../node/invoice/xml';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', name));
function refusal(fn: () => unknown): XmlRefusal {
  try {
    fn();
  } catch (e) {
    if (e instanceof XmlRefusal) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('yuan → fen and rate → basis points, by string arithmetic', () => {
  it('converts exactly, including amounts that floating point gets wrong', () => {
    expect(yuanToFen('18.63')).toBe(1863);
    expect(yuanToFen('0.56')).toBe(56);
    expect(yuanToFen('500')).toBe(50000);
    expect(yuanToFen('500.0')).toBe(50000);
    expect(yuanToFen('-1060.00')).toBe(-106000);
    // 1.15 * 100 = 114.99999999999999 and 4.35 * 100 = 434.99999999999994 in binary floating point.
    expect(yuanToFen('1.15')).toBe(115);
    expect(yuanToFen('4.35')).toBe(435);
    expect(yuanToFen('90071992547409.91')).toBe(9007199254740991);
    for (const bad of ['18.634', '1,000.00', '1e3', '+5', '.5', '5.', '', ' 1', '90071992547409.92', '0x10']) expect(yuanToFen(bad), bad).toBeNull();
  });
  it('rates', () => {
    expect(rateToBps('0.03')).toBe(300);
    expect(rateToBps('0.13')).toBe(1300);
    expect(rateToBps('0.015')).toBe(150);
    expect(rateToBps('0.005')).toBe(50);
    expect(rateToBps('0.01')).toBe(100);
    expect(rateToBps('0')).toBe(0);
    expect(rateToBps('1')).toBe(10000);
    for (const bad of ['3%', '0.00001', '1.5', '-0.03', '.03', '0,03', '3']) expect(rateToBps(bad), bad).toBeNull();
  });
  it('platform times at +08:00', () => {
    expect(platformTime('2025-03-01 10:00:00')).toBe('2025-03-01T10:00:00+08:00');
    expect(platformTime('2025-03-01')).toBe('2025-03-01T00:00:00+08:00');
    expect(platformTime('2025/03/01')).toBeNull();
  });
});

describe('the parse profile', () => {
  it('refuses any DOCTYPE before reading further (no DTD, no entities)', () => {
    const e = refusal(() => parseXml(Buffer.from('<!DOCTYPE EInvoice [<!ENTITY a "b">]><EInvoice>&a;</EInvoice>')));
    expect(e.code).toBe('XML_DTD_FORBIDDEN');
  });
  it('bounds size, depth, element count, attributes and text', () => {
    expect(refusal(() => parseXml(Buffer.from('<a/>'.padEnd(2000, ' ')), { maxBytes: 1000 })).code).toBe('XML_TOO_LARGE');
    const deep = '<a>'.repeat(40) + '</a>'.repeat(40);
    expect(refusal(() => parseXml(Buffer.from(deep))).details).toMatchObject({ limit: 'maxDepth' });
    const many = `<a>${'<b/>'.repeat(200)}</a>`;
    expect(refusal(() => parseXml(Buffer.from(many), { maxElements: 100 })).details).toMatchObject({ limit: 'maxElements' });
    const attrs = `<a ${Array.from({ length: 40 }, (_, i) => `x${i}="1"`).join(' ')}/>`;
    expect(refusal(() => parseXml(Buffer.from(attrs))).details).toMatchObject({ limit: 'maxAttributes' });
    expect(refusal(() => parseXml(Buffer.from(`<a>${'x'.repeat(100)}</a>`), { maxTextChars: 50 })).details).toMatchObject({ limit: 'maxTextChars' });
  });
  it('accepts a UTF-8 byte order mark, refuses UTF-16 and other declared encodings', () => {
    expect(parseXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>一</a>')])).text).toBe('一');
    expect(refusal(() => parseXml(Buffer.from('\ufeff<a/>', 'utf16le'))).code).toBe('XML_ENCODING');
    expect(refusal(() => parseXml(Buffer.from('<?xml version="1.0" encoding="GB18030"?><a/>'))).code).toBe('XML_ENCODING');
  });
  it('numbers repeated siblings in paths', () => {
    const doc = parseXml(Buffer.from('<r><x>1</x><y/><x>2</x></r>'));
    expect(doc.children.map((c) => c.path)).toEqual(['/r/x[1]', '/r/y', '/r/x[2]']);
  });
});

describe('mapping', () => {
  it('lists every leaf and attribute it did not read; long values as SHA-256 and length', () => {
    const text = fixture('small-1pct.xml').toString().replace('<Header>', `<Header vendor="x"><Signature>${'A'.repeat(MAX_UNMAPPED_VALUE + 1)}</Signature>`);
    const m = mapInvoiceXml(parseXml(Buffer.from(text)));
    expect(m.problems).toEqual([]);
    expect(m.unmapped).toContainEqual({ path: '/EInvoice/Header/@vendor', value: 'x' });
    const sig = m.unmapped.find((u) => u.path === '/EInvoice/Header/Signature')!;
    expect(sig.value).toBeUndefined();
    expect(sig.length).toBe(MAX_UNMAPPED_VALUE + 1);
    expect(sig.sha256).toMatch(/^0x[0-9a-f]{64}$/);
  });
  it('an empty buyer id is a natural person; a second <Drawer> is refused', () => {
    const m = mapInvoiceXml(parseXml(Buffer.from(fixture('small-1pct.xml').toString().replace('<BuyerIdNum>9144030071526726XG</BuyerIdNum>', '<BuyerIdNum/>'))));
    expect(m.body.buyer).toEqual({ name: '示例购买方有限公司', taxIdScheme: 'OTHER', isNaturalPerson: true });
    const twice = mapInvoiceXml(parseXml(Buffer.from(fixture('small-1pct.xml').toString().replace('<Drawer>王五</Drawer>', '<Drawer>王五</Drawer><Drawer>赵六</Drawer>'))));
    expect(twice.problems[0]).toMatchObject({ xmlPath: '/EInvoice/EInvoiceData/BasicInformation/Drawer[2]', code: 'xml_repeated' });
  });
  it('finds the XML source of a field, or of the nearest enclosing field', () => {
    const m = mapInvoiceXml(parseXml(fixture('blue-special.xml')));
    expect(xmlPathOf({ path: ['lines', 1, 'amountFen'] }, m.sources)).toBe('/EInvoice/EInvoiceData/IssuItemInformation[2]/Amount');
    expect(xmlPathOf({ path: ['lines', 1, 'nothing'] }, m.sources)).toBe('/EInvoice/EInvoiceData/IssuItemInformation[2]');
    expect(xmlPathOf({ path: ['nothing'] }, m.sources)).toBe('/EInvoice');
  });
});
