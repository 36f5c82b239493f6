/**
 * Number formats shared by reports, error messages and generated files. Generated text depends on them byte for
 * byte (the golden-file tests in test/golden/ would show a change), so each format is written here once.
 */

/** Bytes as KiB with one decimal: "959.0 KiB". */
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** A memory size in the largest whole binary unit: "16 MiB", "320 KiB", "1.5 KiB", "100 B". */
export function sizeText(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return bytes >= 1024 ? kib(bytes) : `${bytes} B`;
}

/**
 * `0x` and at least eight hex digits: an address, a length or a 32-bit word. A negative number is taken as a
 * 32-bit two's-complement word (a checksum held in an int32); a non-negative one is written as it is, so a
 * 4 GiB length stays 0x100000000.
 */
export function hex32(n: number, digits: 'lower' | 'upper' = 'lower'): string {
  const h = (n < 0 ? n >>> 0 : n).toString(16).padStart(8, '0');
  return `0x${digits === 'upper' ? h.toUpperCase() : h}`;
}

/** hex32 with upper-case digits, as generated linker scripts, Renode platforms and ASIC reports write them. */
export const hex32Upper = (n: number): string => hex32(n, 'upper');
