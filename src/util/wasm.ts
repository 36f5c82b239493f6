/**
 * A minimal WebAssembly binary writer: just what the SIMD kernels (src/golden/wasm-gemm.ts, src/float/wasm-sgemm.ts)
 * need to assemble their modules from instructions at load time (no build step, no binary in the repository).
 */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
};
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));

export const I32 = 0x7f;
export const V128 = 0x7b;
export const get = (i: number): number[] => [0x20, ...uleb(i)];
export const set = (i: number): number[] => [0x21, ...uleb(i)];
export const i32c = (n: number): number[] => [0x41, ...sleb(n)];
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const GE_S = [0x4e];
export const LE_S = [0x4c];
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const IF = [0x04, 0x40];
export const END = [0x0b];
export const br = (d: number): number[] => [0x0c, ...uleb(d)];
export const brIf = (d: number): number[] => [0x0d, ...uleb(d)];
export const load32 = [0x28, 2, 0];
export const store32 = (offset: number): number[] => [0x36, 2, ...uleb(offset)];
export const v128load = (offset: number): number[] => [0xfd, 0x00, 4, ...uleb(offset)];
export const v128store = (offset: number): number[] => [0xfd, 0x0b, 4, ...uleb(offset)];
export const load32splat = (offset: number): number[] => [0xfd, 0x09, 2, ...uleb(offset)];

/** A module of functions over one exported memory `mem` (1 page initially, grown by the caller). */
export function moduleBytes(funcs: { name: string; params: number; i32Locals: number; v128Locals: number; body: number[] }[]): Uint8Array<ArrayBuffer> {
  const type = section(1, vec(funcs.map((f) => [0x60, ...vec(Array(f.params).fill([I32])), ...vec([])])));
  const func = section(3, vec(funcs.map((_, i) => uleb(i))));
  const memory = section(5, vec([[0x00, ...uleb(1)]]));
  const exports = section(7, vec([...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]), [...name('mem'), 0x02, 0]]));
  const code = section(
    10,
    vec(
      funcs.map((f) => {
        const locals = vec([...(f.i32Locals ? [[...uleb(f.i32Locals), I32]] : []), ...(f.v128Locals ? [[...uleb(f.v128Locals), V128]] : [])]);
        const body = [...locals, ...f.body, ...END];
        return [...uleb(body.length), ...body];
      }),
    ),
  );
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...func, ...memory, ...exports, ...code]);
}

/** A module's memory and exports, with `reserve` growing the memory to at least `bytes`. */
export function instantiate<T>(bytes: Uint8Array<ArrayBuffer>): { exports: T; reserve(bytes: number): ArrayBuffer } {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const mem = inst.exports.mem as WebAssembly.Memory;
  return {
    exports: inst.exports as T,
    reserve(n) {
      const need = Math.ceil((n - mem.buffer.byteLength) / 65536);
      if (need > 0) mem.grow(need);
      return mem.buffer;
    },
  };
}
