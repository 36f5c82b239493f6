/** C / SystemVerilog identifiers from layer and memory names, unique within one map. */
import type { AsicMap } from '../types.js';
import { hex32Upper } from '../../util/format.js';

export const ident = (s: string): string => {
  let id = s.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toUpperCase();
  if (id === '' || /^[0-9]/.test(id)) id = `L${id}`;
  return id;
};

/** Unique identifier per layer index (collisions after sanitizing get _2, _3, ...). */
export function layerIdents(map: AsicMap): string[] {
  const seen = new Map<string, number>();
  return map.layers.map((l) => {
    const base = ident(l.name);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  });
}
export const KIND_IDENT = { weights: 'WEIGHTS', bias: 'BIAS', multiplier: 'MULT', shift: 'SHIFT' } as const;
export const KIND_CODE = { weights: 0, bias: 1, multiplier: 2, shift: 3 } as const;

export const hexC = (v: number): string => `${hex32Upper(v >>> 0)}u`;
export const hexSv = (v: number): string => {
  const h = hex32Upper(v >>> 0);
  return `32'h${h.slice(2, 6)}_${h.slice(6)}`;
};

/** C and SV string literals and comments: the project's one escaping module. */
export { cComment, cString, lineComment, svString } from '../../util/text.js';
