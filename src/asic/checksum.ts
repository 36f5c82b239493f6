/**
 * The one checksum used by the map, the C header, the SV package and the generated testbench: FNV-1a, 32 bits,
 * over bytes (h = 0x811c9dc5; per byte: h ^= b; h = h * 0x01000193 mod 2^32).
 */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

export function fnv1a(bytes: ArrayLike<number>, h: number = FNV_OFFSET, start = 0, end = bytes.length): number {
  for (let i = start; i < end; i++) h = Math.imul((h ^ bytes[i]!) >>> 0, FNV_PRIME) >>> 0;
  return h >>> 0;
}

