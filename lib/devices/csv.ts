/**
 * A small RFC 4180 CSV reader for device tables: quoted fields (with "" escapes, commas and line breaks
 * inside quotes), CRLF or LF line ends, a UTF-8 byte-order mark, `;` as an alternative separator when the
 * header line has no comma (spreadsheets in German locales write `;`). Blank lines are skipped.
 */

export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
    this.name = 'CsvError';
  }
}

/** A row that parsed but looks wrong (never with cell content: a cell may be a key). */
export interface CsvWarning {
  line: number;
  message: string;
}

/** Splits CSV text into rows of fields. */
export function parseCsv(text: string): string[][] {
  return parseCsvLines(text).map((r) => r.fields);
}

/** Splits CSV text into rows of fields, each with the line it starts on. */
export function parseCsvLines(text: string): { fields: string[]; line: number }[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const sep = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const rows: { fields: string[]; line: number }[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new CsvError('a quote inside an unquoted field', line);
      quoted = true;
      quoteLine = line;
      fieldStarted = true;
    } else if (c === sep) {
      row.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      if (fieldStarted || field !== '' || row.length > 0) {
        row.push(field);
        rows.push({ fields: row, line: rowLine });
      }
      row = [];
      field = '';
      fieldStarted = false;
      line++;
      rowLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  // The line the quote opened on: counting to the end of the file names a line that may not exist.
  if (quoted) throw new CsvError('a quoted field is not closed', quoteLine);
  if (fieldStarted || field !== '' || row.length > 0) {
    row.push(field);
    rows.push({ fields: row, line: rowLine });
  }
  return rows;
}

/**
 * CSV with a header line -> one object per data row (column name -> trimmed text). Rows whose number of
 * fields differs from the header's, and a header that looks split by another separator, are reported in
 * `warnings` by line number; the rows are still used as far as their columns go.
 */
export function csvToRecords(text: string, warnings: CsvWarning[] = []): Record<string, string>[] {
  const rows = parseCsvLines(text);
  if (rows.length === 0) return [];
  const header = rows[0].fields.map((h) => h.trim());
  if (header.length === 1) {
    const other = ['\t', ';', '|'].find((sep) => header[0].includes(sep));
    if (other !== undefined) {
      warnings.push({
        line: rows[0].line,
        message: `the header has one column and contains ${other === '\t' ? 'tabs' : `"${other}"`}: separate columns with "," or ";"`,
      });
    }
  }
  const out: Record<string, string>[] = [];
  for (let r = 1; r < rows.length; r++) {
    const { fields, line } = rows[r];
    if (fields.length !== header.length) {
      warnings.push({
        line,
        message: `${fields.length} column(s) where the header has ${header.length}: ${fields.length < header.length ? 'missing columns are empty' : 'extra columns are ignored'}`,
      });
    }
    const rec: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h) rec[h] = (fields[i] ?? '').trim();
    });
    out.push(rec);
  }
  return out;
}
