/**
 * Code 128 for the 18-digit online code, rendered with Unicode block
 * characters for a terminal. Set C packs two digits per symbol, so an
 * 18-digit code is 9 symbols: 134 modules with start, check and stop.
 */

/** Element widths (bar, space, bar, ...) of the 107 Code 128 symbols; 106 is the stop pattern. */
// biome-ignore format: a table reads better in rows of eight
export const CODE128_PATTERNS: readonly string[] = [
  "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312",
  "132212", "221213", "221312", "231212", "112232", "122132", "122231", "113222",
  "123122", "123221", "223211", "221132", "221231", "213212", "223112", "312131",
  "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321",
  "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
  "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121",
  "313121", "211331", "231131", "213113", "213311", "213131", "311123", "311321",
  "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224",
  "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
  "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
  "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112",
  "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113",
  "114311", "411113", "411311", "113141", "114131", "311141", "411131", "211412",
  "211214", "211232", "2331112",
];

export const CODE128_START_C = 105;
export const CODE128_STOP = 106;
/** Quiet zone on each side, in modules (the standard asks for at least 10). */
export const QUIET_ZONE_MODULES = 10;

/** Symbol values of an even-length digit string in set C: start, pairs, check, stop. */
export function code128cSymbols(digits: string): number[] {
  if (!/^(\d\d)+$/.test(digits)) {
    throw new RangeError("Code 128 set C needs a non-empty, even number of digits");
  }
  const symbols = [CODE128_START_C];
  let checksum = CODE128_START_C;
  for (let i = 0; i < digits.length; i += 2) {
    const value = Number(digits.slice(i, i + 2));
    symbols.push(value);
    checksum += value * (i / 2 + 1);
  }
  symbols.push(checksum % 103, CODE128_STOP);
  return symbols;
}

/** The barcode as modules, true = bar, without quiet zones. */
export function code128cModules(digits: string): boolean[] {
  const modules: boolean[] = [];
  for (const symbol of code128cSymbols(digits)) {
    const widths = CODE128_PATTERNS[symbol]!;
    for (let e = 0; e < widths.length; e++) {
      for (let w = 0; w < Number(widths[e]); w++) modules.push(e % 2 === 0);
    }
  }
  return modules;
}

export interface BarcodeRenderOptions {
  /** Text rows of bars; default 4. */
  height?: number;
  /**
   * Terminals draw glyphs in the light foreground colour on a dark
   * background, so by default bars are blank and spaces are blocks, which
   * reads as dark bars on light ground. Set for a light-background terminal.
   */
  lightBackground?: boolean;
}

/**
 * Renders digits as a Code 128 barcode, two modules per character (half
 * blocks), with quiet zones, followed by the digits grouped 4-4-4-4-2.
 */
export function renderCode128(digits: string, options: BarcodeRenderOptions = {}): string {
  const height = options.height ?? 4;
  const quiet = new Array<boolean>(QUIET_ZONE_MODULES).fill(false);
  const modules = [...quiet, ...code128cModules(digits), ...quiet];
  if (modules.length % 2 === 1) modules.push(false);
  // Index by (left is ink, right is ink); "ink" is what the eye should see as dark.
  const glyphs = options.lightBackground ? [" ", "▐", "▌", "█"] : ["█", "▌", "▐", " "];
  let row = "";
  for (let i = 0; i < modules.length; i += 2) {
    row += glyphs[(modules[i] ? 2 : 0) + (modules[i + 1] ? 1 : 0)];
  }
  const lines = new Array<string>(height).fill(row);
  const caption = groupDigits(digits);
  const pad = Math.max(0, Math.floor((row.length - caption.length) / 2));
  lines.push(" ".repeat(pad) + caption);
  return lines.join("\n");
}

/** Groups an online code 4-4-4-4-2 for reading aloud: "6212 3456 7890 1234 56". */
export function groupDigits(digits: string): string {
  return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
}
