/** One column of a table: its header, how to get a cell from a row, and which side it aligns to. */
export interface Column<Row> {
  header: string;
  value(row: Row): string | number | boolean | null | undefined;
  /** Numbers read best right-aligned; defaults to left. */
  align?: 'left' | 'right';
}

const GAP = '  ';

/**
 * Renders rows as a plain-text table with aligned columns and an upper-case header row.
 * No borders and no trailing spaces, so the output stays greppable and diff-friendly.
 */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, i) =>
    Math.max(displayWidth(header), ...cells.map((line) => displayWidth(line[i] ?? ''))),
  );
  const render = (line: readonly string[]) =>
    line
      .map((text, i) => {
        const width = widths[i] ?? 0;
        const padding = ' '.repeat(Math.max(0, width - displayWidth(text)));
        return columns[i]?.align === 'right' ? padding + text : text + padding;
      })
      .join(GAP)
      .trimEnd();
  return [render(headers), ...cells.map(render)].join('\n');
}

/** Renders `label: value` pairs with the values aligned; pairs whose value is undefined are left out. */
export function formatDetails(
  pairs: readonly (readonly [string, string | number | boolean | null | undefined])[],
): string {
  const shown = pairs.filter(([, value]) => value !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => displayWidth(label)));
  return shown
    .map(([label, value]) =>
      `${label}:${' '.repeat(width - displayWidth(label) + 1)}${cellText(value)}`.trimEnd(),
    )
    .join('\n');
}

function cellText(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  // A cell is one line: a newline in a device's error message must not break the table.
  return String(value).replace(/[\r\n\t]+/g, ' ');
}

/** Terminal columns a string takes: East Asian wide characters take two, combining marks none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (/\p{Mn}|\p{Me}|\p{Cf}/u.test(char)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}
