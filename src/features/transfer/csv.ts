/** A CSV document could not be read; `record` is the 1-based record (line of the table) where it went wrong. */
export class CsvError extends Error {
  override readonly name = 'CsvError';
  constructor(message: string, readonly record: number) {
    super(message);
  }
}

/**
 * Parses RFC 4180 CSV: fields separated by commas, records by CRLF or LF; a field in double quotes may hold commas,
 * line breaks and doubled quotes (""). A leading byte order mark is dropped, and so is a final empty line.
 * Answers every record as an array of strings; a quote inside an unquoted field or an unterminated quoted field
 * throws CsvError naming the record.
 */
export function parseCsv(text: string): string[][] {
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // the current field was quoted (only a separator or line end may follow the closing quote)
  let i = 0;
  const endField = () => {
    record.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };
  while (i < input.length) {
    const ch = input[i]!;
    if (quoted) {
      if (ch === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        wasQuoted = true;
        i += 1;
        continue;
      }
      field += ch;
      i += 1;
      continue;
    }
    if (ch === ',') {
      endField();
      i += 1;
    } else if (ch === '\r' && input[i + 1] === '\n') {
      endRecord();
      i += 2;
    } else if (ch === '\n') {
      endRecord();
      i += 1;
    } else if (ch === '"') {
      if (field !== '' || wasQuoted) throw new CsvError('a double quote inside an unquoted field; quote the whole field and double the quote ("")', records.length + 1);
      quoted = true;
      i += 1;
    } else {
      if (wasQuoted) throw new CsvError('text after the closing quote of a field; a quoted field ends at a comma or the end of the line', records.length + 1);
      field += ch;
      i += 1;
    }
  }
  if (quoted) throw new CsvError('a quoted field is not closed before the end of the file', records.length + 1);
  // The last record, unless the file ended with a line break.
  if (field !== '' || wasQuoted || record.length > 0) endRecord();
  return records;
}

/** Quotes a field when it holds a comma, a quote, a line break or leading/trailing space (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A cell a spreadsheet would evaluate as a formula (first character = + - @, tab or carriage return) gets a
 * leading ' so it is shown as text: an exported note such as =HYPERLINK(...) must not run on a reviewer's machine.
 */
export function inertCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** Writes records as CSV with CRLF line ends, as RFC 4180 says. */
export function writeCsv(records: readonly (readonly string[])[]): string {
  return records.map((r) => r.map(csvField).join(',')).join('\r\n') + (records.length > 0 ? '\r\n' : '');
}
