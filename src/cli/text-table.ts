/**
 * Plain-text tables for CLI reports. Cells may hold replica data, which is untrusted: every cell goes through
 * {@link printable}, so control characters (terminal escapes, CR/LF that would forge lines) never reach a
 * terminal raw.
 */

/** Longest cell text kept; longer values are cut with `…` (a 10,000-character ID must not flood a report). */
const MAX_CELL = 64;

/** `value` with everything outside printable ASCII shown as `\uXXXX`, cut to {@link MAX_CELL} characters. */
export function printable(value: string | null | undefined, max = MAX_CELL): string {
  if (value === null || value === undefined) return '-';
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return cut.replace(/[^\x20-\x7e…]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Lines of a left-aligned table with a header row; cells are already strings (pass them through printable). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
