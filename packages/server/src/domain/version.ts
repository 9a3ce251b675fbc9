/**
 * Firmware version ordering. Devices report free-form strings ("1.0.9", "v2.0", "1.0.0-beta.2",
 * "20240105"), so this is SemVer-ish rather than SemVer: it never throws and gives every pair of
 * strings a consistent order.
 *
 * Rules:
 * - surrounding whitespace and a leading `v`/`V` before a digit are ignored ("v2.0" = "2.0");
 * - the text splits into numeric runs and word runs; `.`, `-`, `_`, `~` and spaces only separate;
 * - numeric runs compare by value, of any length ("1.0.10" > "1.0.9", "1.01" = "1.1");
 * - word runs compare case-insensitively, and sort before any number, so a trailing word marks a
 *   pre-release ("1.0.0-beta" < "1.0.0" < "1.0.0.1", "alpha" < "beta" < "rc");
 * - missing trailing parts count as zero ("1.0" = "1.0.0");
 * - build metadata after `+` only breaks ties: none first, then by the same rules ("1.0" < "1.0+b2" < "1.0+b10").
 *
 * Unlike SemVer 2.0, numeric pre-release identifiers sort after word ones ("1.0-alpha.beta" < "1.0-alpha.1").
 */

/** A numeric run (digits, leading zeros stripped) or a lower-cased word run. */
type Token = { readonly num: string } | { readonly word: string };

const TOKEN = /\d+|[^\d.\-_~+\s]+/g;
const ZERO: Token = { num: '0' };

function tokens(text: string): Token[] {
  return Array.from(text.matchAll(TOKEN), ([run]) =>
    /^\d/.test(run) ? { num: run.replace(/^0+(?=\d)/, '') } : { word: run.toLowerCase() },
  );
}

function compareTokens(a: Token, b: Token): number {
  if ('num' in a && 'num' in b) {
    // Compare digit strings, not Numbers: date-like versions overflow 2^53.
    return a.num.length - b.num.length || (a.num < b.num ? -1 : a.num > b.num ? 1 : 0);
  }
  if ('word' in a && 'word' in b) return a.word < b.word ? -1 : a.word > b.word ? 1 : 0;
  return 'word' in a ? -1 : 1;
}

function compareTokenLists(a: readonly Token[], b: readonly Token[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const order = compareTokens(a[i] ?? ZERO, b[i] ?? ZERO);
    if (order !== 0) return order;
  }
  return 0;
}

function parse(version: string): { main: Token[]; build: Token[] | undefined } {
  const text = version.trim().replace(/^v(?=\d)/i, '');
  const plus = text.indexOf('+');
  const build = plus < 0 ? '' : text.slice(plus + 1);
  return { main: tokens(plus < 0 ? text : text.slice(0, plus)), build: build ? tokens(build) : undefined };
}

/**
 * Orders two version strings: negative when `a` is older, positive when newer, 0 when they are the
 * same version. Usable directly as an `Array.prototype.sort` comparator.
 */
export function compareVersions(a: string, b: string): number {
  const left = parse(a);
  const right = parse(b);
  const main = compareTokenLists(left.main, right.main);
  if (main !== 0) return Math.sign(main);
  if (!left.build || !right.build) return Number(Boolean(left.build)) - Number(Boolean(right.build));
  return Math.sign(compareTokenLists(left.build, right.build));
}

/**
 * Whether two strings name the same version (`compareVersions` = 0). The one equality Aloft uses
 * everywhere: "already on the target", "matches a source version", "reported the target".
 */
export function sameVersion(a: string, b: string): boolean {
  return compareVersions(a, b) === 0;
}
