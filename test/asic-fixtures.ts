/** Small hand-made QModels and random ASIC profiles for the asic tests. */
import type { QConv, QModel, QTensor, QPool } from '../src/quantize/types.js';
import type { AsicProfileInput } from '../src/asic/profile.js';
import { parseProfile, type AsicProfile } from '../src/asic/profile.js';

/** Deterministic PRNG and integer helper: the project's own (src/util/random.ts). */
import { mulberry32 as rng, randInt } from '../src/util/random.js';

export { rng, randInt };
export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

interface ConvSpec {
  name: string;
  cout: number;
  k: number;
}

/** A chain of conv layers (with one max pool) with random int8 parameters. */
export function makeModel(seed: number, specs?: ConvSpec[], cin0 = 3): QModel {
  const r = rng(seed);
  const layerSpecs =
    specs ??
    Array.from({ length: randInt(r, 1, 5) }, (_, i) => ({ name: `conv${i + 1}${i === 1 ? '/expand3x3' : ''}`, cout: randInt(r, 1, 37), k: pick(r, [1, 3, 5]) }));
  const tensors: Record<string, QTensor> = {};
  const t = (name: string, c: number): string => {
    tensors[name] = { name, dims: { h: 8, w: 8, c }, scale: 0.05, zeroPoint: -3 };
    return name;
  };
  let prev = t('input', cin0);
  let cin = cin0;
  const layers: (QConv | QPool)[] = [];
  layerSpecs.forEach((s, i) => {
    const n = s.cout * s.k * s.k * cin;
    const weights = new Int8Array(n);
    const per = s.k * s.k * cin;
    for (let c = 0; c < s.cout; c++) {
      const mode = r();
      const amp = mode < 0.1 ? 0 : mode < 0.25 ? randInt(r, 1, 7) : randInt(r, 8, 127);
      for (let j = 0; j < per; j++) weights[c * per + j] = randInt(r, -amp, amp);
    }
    const bias = Int32Array.from({ length: s.cout }, () => randInt(r, -(2 ** 31), 2 ** 31 - 1));
    const multiplier = Int32Array.from({ length: s.cout }, () => randInt(r, 2 ** 30, 2 ** 31 - 1));
    const shift = Int32Array.from({ length: s.cout }, () => randInt(r, -31, 3));
    const weightScales = Float64Array.from({ length: s.cout }, () => 0.001 + r() * 0.01);
    const out = t(`${s.name}_out`, s.cout);
    layers.push({
      name: s.name,
      op: 'conv',
      inputs: [prev],
      output: out,
      kernel: [s.k, s.k],
      stride: [1, 1],
      pad: { top: (s.k - 1) / 2, left: (s.k - 1) / 2, bottom: (s.k - 1) / 2, right: (s.k - 1) / 2 },
      weights,
      bias,
      weightScales,
      multiplier,
      shift,
      inputOffset: 3,
      outputOffset: -3,
      actMin: -128,
      actMax: 127,
    });
    prev = out;
    cin = s.cout;
    if (i === 0) {
      const po = t('pool1_out', cin);
      layers.push({ name: 'pool1', op: 'maxpool', inputs: [prev], output: po, kernel: [2, 2], stride: [2, 2], pad: { top: 0, left: 0, bottom: 0, right: 0 }, actMin: -128, actMax: 127 });
      prev = po;
    }
  });
  return { name: `rand-${seed}`, input: 'input', outputs: [prev], tensors, layers };
}

/** A random valid profile; depth is sized generously (scale it down to provoke shortfalls). */
export function randomProfile(seed: number, depth = 2048): AsicProfile {
  const r = rng(seed * 7919 + 1);
  const nMem = randInt(r, 1, 3);
  const memories: AsicProfileInput['memories'] = [];
  for (let i = 0; i < nMem; i++) {
    const wordBits = pick(r, [8, 16, 24, 32, 64, 72, 128]);
    const banks = randInt(r, 1, 5);
    const bankBytes = (wordBits / 8) * depth;
    const stride = r() < 0.5 ? undefined : Math.ceil(2 ** Math.ceil(Math.log2(bankBytes)) / (wordBits / 8)) * (wordBits / 8);
    memories.push({
      name: `m${i}`,
      kind: pick(r, ['rom', 'sram'] as const),
      wordBits,
      depth,
      banks,
      ports: randInt(r, 1, 2),
      base: Math.ceil((i * 0x1000_0000) / (wordBits / 8)) * (wordBits / 8) + (wordBits / 8) * randInt(r, 0, 64),
      ...(stride !== undefined ? { bankStride: stride } : {}),
      layout: pick(r, ['linear', 'spread'] as const),
      crossBanks: r() < 0.5,
    });
  }
  const mem = (): string => `m${randInt(r, 0, nMem - 1)}`;
  const align = (): { alignWords?: number } => (r() < 0.5 ? {} : { alignWords: randInt(r, 1, 4) });
  return parseProfile({
    name: `rand${seed}`,
    byteOrder: pick(r, ['little', 'big'] as const),
    weightPrecision: pick(r, ['int8', 'int4'] as const),
    alignment: { sectionWords: randInt(r, 1, 3) },
    memories,
    placement: {
      weights: { memory: mem(), ...align() },
      bias: { memory: mem(), ...align() },
      multiplier: { memory: mem(), ...align() },
      shift: { memory: mem(), elementBytes: pick(r, [1, 4] as const), ...align() },
    },
  });
}
