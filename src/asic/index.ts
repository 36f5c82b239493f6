/** ASIC / FPGA on-die memory map. See README.md in this folder. */
export { profileSchema, parseProfile, loadProfile, resolveProfilePath, listBuiltinProfiles, builtinProfileDir } from './profile.js';
export type { AsicProfile, AsicProfileInput, AsicMemory, ParamKind } from './profile.js';
export { quantizeInt4, convToInt4, packInt4, unpackInt4, realMultiplier } from './int4.js';
export { quantizeMultiplier } from '../golden/kernels.js';
export {
  computeAsicMap,
  arenaRegions,
  asicShortfalls,
  paramCost,
  paramLayers,
  modelForPrecision,
  sectionStream,
  initFileName,
} from './layout.js';
export type { AsicOptions, Shortfall, ParamCost } from './layout.js';
export type * from './types.js';
export { imageKey } from './types.js';
export { renderAsicFiles, MAP_FILE, MAP_SCHEMA_FILE } from './render.js';
export type { RenderOptions } from './render.js';
export { mapToJson } from './writers/json.js';
export { parseMemh } from './writers/memh.js';
export { memoryMapSchema, memoryMapJsonSchema } from './map-schema.js';
export type { MemoryMapJson } from './map-schema.js';
export { readSection } from './readback.js';
export { asicSummary, comparePrecisions, precisionSummaries, SEED_FIGURES, toMB, toMiB } from './summary.js';
export type { AsicSummary, BankSummary, PrecisionSummary } from './summary.js';
export { fnv1a, FNV_OFFSET, FNV_PRIME } from './checksum.js';
export { writeFilesAtomic } from './write.js';
export { runTestbench, haveIverilog, haveVerilator } from './sim.js';
export type { SimResult, SimOptions, Simulator } from './sim.js';
