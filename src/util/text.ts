/**
 * The one place where untrusted strings (board and ASIC profile fields, model and class names, image notes) become
 * C, Makefile, linker-script, Renode or SystemVerilog text. Every emitter goes through these functions, so a newline,
 * a comment terminator, a trigraph, a `$` or a NUL byte can never add a rule, a statement or a section.
 *
 * Two kinds of helper: `checkText` rejects (used by the profile schemas, naming the field), the others escape.
 */

/** Characters no single-line text field may hold: C0/C1 controls, DEL, line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why `s` is not acceptable as one line of text of at most `max` characters, or undefined when it is. */
export function textProblem(s: string, max: number): string | undefined {
  const m = CONTROL.exec(s);
  if (m) return `contains the control character U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${m.index} (a single line of text is expected)`;
  if (s.length > max) return `is ${s.length} characters long, more than ${max}`;
  return undefined;
}

/** Replaces control characters by spaces: one line, whatever the input. */
const oneLine = (s: string): string => s.replace(new RegExp(CONTROL.source, 'g'), ' ');

/**
 * A C string literal (with the quotes) holding the UTF-8 bytes of `s`: printable ASCII as is except `"`, `\` and
 * `?` (escaped, so `??/` is no trigraph), everything else as three-digit octal escapes (a NUL byte included).
 */
export function cString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c || b === 0x3f) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** Text safe inside a one-line C (or linker-script) block comment: no line breaks, no `*\/`, no trigraphs. */
export const cComment = (s: string): string => oneLine(s).replace(/\*\//g, '* /').replace(/\/\*/g, '/ *').replace(/\?(?=\?)/g, '? ');

/** Text safe in a one-line `#` comment of a Makefile, Renode script or shell: no line breaks, no trailing `\`. */
export const hashComment = (s: string): string => oneLine(s).replace(/\\/g, '/');

/** Text safe in a one-line `//` comment of SystemVerilog or C: no line breaks, no trailing `\`. */
export const lineComment = (s: string): string => oneLine(s).replace(/\\/g, '/').replace(/\?(?=\?)/g, '? ');

/**
 * One shell word inside a Makefile recipe or variable: single-quoted for the shell unless it is plainly safe, with
 * `$` doubled and `#` escaped for make. Control characters are refused (they would end the make line).
 */
export function makeShellWord(w: string, field: string): string {
  if (CONTROL.test(w)) throw new Error(`${field}: control character in ${JSON.stringify(w)} (the profile schema should have refused it)`);
  const q = /^[A-Za-z0-9_\-+=.,/:@%]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
  return q.replace(/\$/g, '$$$$').replace(/#/g, '\\#');
}

/** A SystemVerilog string literal: printable ASCII as is except `"` and `\`, everything else as octal escapes. */
export function svString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** Renode/Robot double-quoted string content: no line breaks, `"` and `\` escaped. */
export const quotedText = (s: string): string => oneLine(s).replace(/[\\"]/g, (c) => `\\${c}`);

/** For error messages quoting untrusted values: control characters written as JSON escapes (`\n`, `\u0000`), one line. */
export const escapeControls = (s: string): string => s.replace(new RegExp(CONTROL.source, 'g'), (c) => JSON.stringify(c).slice(1, -1));
