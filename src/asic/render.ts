/** All output files of `sqzfw asic`, rendered from one AsicMap. Pure: returns file name -> contents. */
import type { AsicMap } from './types.js';
import type { ParamCost } from './layout.js';
import { renderMapJson, renderMapSchema } from './writers/json.js';
import { HEADER_FILE, renderHeader } from './writers/header.js';
import { SV_PACKAGE_FILE, SV_ROM_FILE, SV_TB_FILE, renderSvPackage, renderSvRom, renderSvTestbench } from './writers/sv.js';
import { renderMemh } from './writers/memh.js';
import { REPORT_FILE, SVG_FILE, renderBanksSvg, renderReport } from './writers/report.js';

export const MAP_FILE = 'memory_map.json';
export const MAP_SCHEMA_FILE = 'memory_map.schema.json';

export interface RenderOptions {
  /** int8 vs int4 cost rows for the report (comparePrecisions). */
  comparison?: ParamCost[];
}

export function renderAsicFiles(map: AsicMap, opts: RenderOptions = {}): Record<string, string> {
  const files: Record<string, string> = {};
  files[MAP_FILE] = renderMapJson(map);
  files[MAP_SCHEMA_FILE] = renderMapSchema(map.generator);
  files[HEADER_FILE] = renderHeader(map);
  files[SV_PACKAGE_FILE] = renderSvPackage(map);
  files[SV_ROM_FILE] = renderSvRom(map);
  files[SV_TB_FILE] = renderSvTestbench(map);
  for (const m of map.memories) for (const u of m.bankUse) if (u.initFile) files[u.initFile] = renderMemh(map, m, u.bank);
  files[REPORT_FILE] = renderReport(map, opts);
  files[SVG_FILE] = renderBanksSvg(map);
  return files;
}
