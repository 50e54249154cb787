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
  const rows: { fields: string[]; line: number }[] = [];
  eachCsvRow(text, (fields, line) => rows.push({ fields, line }));
  return rows;
}

/**
 * Calls `onRow` with the fields of each row and the line it starts on, without holding every row at once (a
 * table of a million rows). Runs of plain characters are sliced, not copied a character at a time.
 */
export function eachCsvRow(text: string, onRow: (fields: string[], line: number) => void): void {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const sep = (!firstLine.includes(',') && firstLine.includes(';') ? ';' : ',').charCodeAt(0);
  const n = text.length;
  let row: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A quoted field: "" is a quote, separators and line breaks are text.
      if (field !== '') throw new CsvError('a quote inside an unquoted field', line);
      const quoteLine = line;
      fieldStarted = true;
      let from = ++i;
      let closed = false;
      while (i <= n) {
        const q = text.indexOf('"', i);
        if (q < 0) break;
        for (let k = i; k < q; k++) if (text.charCodeAt(k) === 10) line++;
        field += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 34) {
          field += '"';
          i = from = q + 2;
          continue;
        }
        i = q + 1;
        closed = true;
        break;
      }
      // The line the quote opened on: counting to the end of the file names a line that may not exist.
      if (!closed) throw new CsvError('a quoted field is not closed', quoteLine);
    } else if (c === sep) {
      row.push(field);
      field = '';
      fieldStarted = true;
      i++;
    } else if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      if (fieldStarted || field !== '' || row.length > 0) {
        row.push(field);
        onRow(row, rowLine);
      }
      row = [];
      field = '';
      fieldStarted = false;
      line++;
      rowLine = line;
      i++;
    } else {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === sep || d === 10 || d === 13 || d === 34) break;
        j++;
      }
      field += text.slice(i, j);
      fieldStarted = true;
      i = j;
    }
  }
  if (fieldStarted || field !== '' || row.length > 0) {
    row.push(field);
    onRow(row, rowLine);
  }
}

/** The warning for a header that another separator split into one column, or undefined. */
export function headerWarning(header: string[], line: number): CsvWarning | undefined {
  if (header.length !== 1) return undefined;
  const other = ['\t', ';', '|'].find((sep) => header[0].includes(sep));
  if (other === undefined) return undefined;
  return {
    line,
    message: `the header has one column and contains ${other === '\t' ? 'tabs' : `"${other}"`}: separate columns with "," or ";"`,
  };
}

/** The warning for a row whose number of fields differs from the header's, or undefined. */
export function widthWarning(fields: number, header: number, line: number): CsvWarning | undefined {
  if (fields === header) return undefined;
  return {
    line,
    message: `${fields} column(s) where the header has ${header}: ${fields < header ? 'missing columns are empty' : 'extra columns are ignored'}`,
  };
}

/**
 * CSV with a header line -> one object per data row (column name -> trimmed text). Rows whose number of
 * fields differs from the header's, and a header that looks split by another separator, are reported in
 * `warnings` by line number; the rows are still used as far as their columns go.
 */
export function csvToRecords(text: string, warnings: CsvWarning[] = []): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let header: string[] | undefined;
  eachCsvRow(text, (fields, line) => {
    if (!header) {
      header = fields.map((h) => h.trim());
      const w = headerWarning(header, line);
      if (w) warnings.push(w);
      return;
    }
    const w = widthWarning(fields.length, header.length, line);
    if (w) warnings.push(w);
    const rec: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h) rec[h] = (fields[i] ?? '').trim();
    });
    out.push(rec);
  });
  return out;
}
