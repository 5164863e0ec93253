import { describe, expect, it } from 'vitest';
import { CsvError, csvField, inertCell, parseCsv, writeCsv } from './csv.js';

describe('the RFC 4180 CSV parser', () => {
  it('splits records on CRLF or LF and fields on commas', () => {
    expect(parseCsv('a,b,c\r\n1,2,3\n4,5,6')).toEqual([['a', 'b', 'c'], ['1', '2', '3'], ['4', '5', '6']]);
  });
  it('drops a final line break and a byte order mark, keeps empty fields', () => {
    expect(parseCsv('\uFEFFa,,c\r\n,,\r\n')).toEqual([['a', '', 'c'], ['', '', '']]);
  });
  it('reads quoted fields with commas, line breaks and doubled quotes', () => {
    expect(parseCsv('name,notes\r\n"db, primary","line one\r\nline two"\r\n"say ""hi""",""\r\n')).toEqual([
      ['name', 'notes'],
      ['db, primary', 'line one\r\nline two'],
      ['say "hi"', ''],
    ]);
  });
  it('keeps spaces inside fields as they are', () => {
    expect(parseCsv(' a , b ')).toEqual([[' a ', ' b ']]);
  });
  it('refuses a quote inside an unquoted field, text after a closing quote and an unclosed quote, naming the record', () => {
    const failure = (text: string) => {
      try {
        parseCsv(text);
      } catch (error) {
        expect(error).toBeInstanceOf(CsvError);
        return { record: (error as CsvError).record, message: (error as Error).message };
      }
      throw new Error('expected a CsvError');
    };
    expect(failure('a,b\r\nx"y,z')).toMatchObject({ record: 2, message: expect.stringContaining('unquoted') });
    expect(failure('a\r\nb\r\n"x"y')).toMatchObject({ record: 3, message: expect.stringContaining('closing quote') });
    expect(failure('a\r\n"open,b\r\nc')).toMatchObject({ record: 2, message: expect.stringContaining('not closed') });
  });
  it('an empty document has no records', () => {
    expect(parseCsv('')).toEqual([]);
  });
  it('writes what it reads back (quoting only what needs it)', () => {
    const records = [['device', 'notes'], ['db01', 'a, b'], ['web "1"', 'two\r\nlines'], [' lead', '']];
    const text = writeCsv(records);
    expect(text).toBe('device,notes\r\ndb01,"a, b"\r\n"web ""1""","two\r\nlines"\r\n" lead",\r\n');
    expect(parseCsv(text)).toEqual(records);
    expect(csvField('plain')).toBe('plain');
  });

  it('an exported cell a spreadsheet would run as a formula is made inert with a leading quote', () => {
    expect(['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)', '\tx', '\rx'].map(inertCell)).toEqual(['\'=HYPERLINK("http://x")', "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]);
    expect(['db01', '5432', 'a=b', '', "it's"].map(inertCell)).toEqual(['db01', '5432', 'a=b', '', "it's"]);
  });
});
