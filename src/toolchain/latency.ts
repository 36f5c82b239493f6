/**
 * The latency estimate `sqzfw build` prints: instructions per inference from the plan's multiply-accumulates and an
 * instructions-per-MAC rate measured in QEMU (-icount), and the time that implies at the board's configured clock.
 * An estimate from instruction counts, not a cycle measurement: wait states, cache misses and dual issue change the
 * real figure (DWT cycles on the board: `sqzfw validate --port`, `sqzfw flash --monitor`).
 */
import type { Board } from '../boards/index.js';

/**
 * Guest instructions per MAC with the DSP kernels, measured: SqueezeNet v1.0 at 227x227 (ImageNet weights, the auto
 * plan for nucleo-h743zi: `sqzfw demo --model squeezenet1.0-imagenet.onnx --board nucleo-h743zi`) took 1,047,978,800
 * instructions for 861,339,936 MACs in QEMU -icount on the Cortex-M7 twin, with the lean-requantization kernels.
 */
export const DSP_INSTRUCTIONS_PER_MAC = 1.217;

/**
 * The same with int4 weights in every conv layer (the s4 kernels: 2 pixels x 2 output channels per block, eight
 * packed weights unpacked per 32-bit load in the 3x3 and conv1 loops, each pair of 1x1 weight rows widened once),
 * measured the same way: SqueezeNet v1.0 at 227x227 with 1000 classes (synthetic weights; instruction counts do not
 * depend on the values), the auto plan for nucleo-h743zi, its Cortex-M7 twin under QEMU -icount: 1,246,405,480
 * instructions for 832,667,936 MACs with every conv layer int4 (5,078,732,760, 6.099 per MAC, with the s4 kernels
 * before they were blocked; 3,066,840,520, 3.683 per MAC, with Arm's CMSIS-NN v7.0.0 s4 kernels), against
 * 1,011,786,440 (1.215 per MAC) with int8 weights.
 */
export const DSP_S4_INSTRUCTIONS_PER_MAC = 1.497;

export interface LatencyEstimate {
  instructions: number;
  seconds: number;
  clockHz: number;
}

/**
 * undefined for the scalar kernels, whose rate is not measured (run sqzfw emulate for their count). `int4Macs`: the
 * part of `macs` in layers with int4 weights (the project manifest's int4Macs), counted at the s4 rate.
 */
export function estimateLatency(board: Board, macs: number, dsp: boolean, int4Macs = 0): LatencyEstimate | undefined {
  if (!dsp || !board.cpu.dsp || !(macs > 0)) return undefined;
  const instructions = Math.round((macs - int4Macs) * DSP_INSTRUCTIONS_PER_MAC + int4Macs * DSP_S4_INSTRUCTIONS_PER_MAC);
  return { instructions, seconds: instructions / board.cpu.clockHz, clockHz: board.cpu.clockHz };
}

export function latencyLine(board: Board, macs: number, dsp: boolean, int4Macs = 0): string {
  const e = estimateLatency(board, macs, dsp, int4Macs);
  if (!e) return 'latency estimate: none for the scalar kernels (no measured rate): `sqzfw emulate` counts their instructions';
  const t = e.seconds >= 1 ? `${e.seconds.toFixed(2)} s` : `${(e.seconds * 1000).toFixed(0)} ms`;
  const n = (x: number) => x.toLocaleString('en-US');
  const rate =
    int4Macs > 0
      ? `${n(macs - int4Macs)} MACs with int8 weights x ${DSP_INSTRUCTIONS_PER_MAC} + ${n(int4Macs)} MACs with int4 weights x ${DSP_S4_INSTRUCTIONS_PER_MAC} instructions per MAC, measured in QEMU`
      : `${n(macs)} MACs x ${DSP_INSTRUCTIONS_PER_MAC} instructions per MAC, measured in QEMU`;
  return (
    `latency estimate: ~${n(e.instructions)} instructions per inference (${rate}), ` +
    `~${t} at the board's ${+(e.clockHz / 1e6).toFixed(3)} MHz: an estimate from instruction counts at one instruction per cycle, not a cycle measurement`
  );
}

/**
 * The line generate and demo print under the mixed-precision report: the estimate for the mixed model (`int4Macs` of
 * the `macs` at the s4 rate) beside the one with int8 weights everywhere, as the cost of the smaller weights.
 */
export function mixedLatencyLine(board: Board, macs: number, dsp: boolean, int4Macs: number): string {
  const int8 = estimateLatency(board, macs, dsp);
  const mixed = estimateLatency(board, macs, dsp, int4Macs);
  if (!int8 || !mixed) return 'latency estimate: none for the scalar kernels (no measured rate)';
  const ms = (e: LatencyEstimate): string => `${(e.seconds * 1000).toFixed(0)} ms`;
  const n = (x: number): string => x.toLocaleString('en-US');
  return (
    `latency estimate: ~${n(mixed.instructions)} instructions per inference (~${ms(mixed)} at ${+(board.cpu.clockHz / 1e6).toFixed(3)} MHz) ` +
    `against ~${n(int8.instructions)} (~${ms(int8)}) with int8 weights everywhere: ${n(int4Macs)} of ${n(macs)} MACs with int4 weights at ` +
    `${DSP_S4_INSTRUCTIONS_PER_MAC} instructions per MAC, the rest at ${DSP_INSTRUCTIONS_PER_MAC} (an estimate, as sqzfw build prints)`
  );
}
