/** memory_map.json and memory_map.schema.json. */
import type { AsicMap } from '../types.js';
import { memoryMapJsonSchema, type MemoryMapJson } from '../map-schema.js';

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** The JSON form of the map (everything but the bank images), in a fixed key order. */
export function mapToJson(map: AsicMap): MemoryMapJson {
  const { images: _images, ...rest } = map;
  void _images;
  return {
    ...rest,
    memories: rest.memories.map((m) => ({ ...m, bankUse: m.bankUse.map((u) => ({ ...u, utilization: round6(u.utilization) })) })),
  } as MemoryMapJson;
}

export const renderMapJson = (map: AsicMap): string => `${JSON.stringify(mapToJson(map), null, 2)}\n`;

export const renderMapSchema = (generator: string): string =>
  `${JSON.stringify({ $comment: `${generator}: schema of memory_map.json`, ...(memoryMapJsonSchema() as object) }, null, 2)}\n`;
