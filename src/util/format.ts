/** Sizes as the CLI prints them. */

/** Bytes as KiB with one decimal: "959.0 KiB". */
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** A memory size in the largest whole binary unit: "16 MiB", "320 KiB", "1.5 KiB", "100 B". */
export function sizeText(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return bytes >= 1024 ? kib(bytes) : `${bytes} B`;
}
