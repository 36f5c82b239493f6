/**
 * Lets the test worker's event loop answer vitest's pending RPC between long synchronous stages (golden runs,
 * calibration): on a loaded machine a minute-long block otherwise trips vitest's "Timeout calling onTaskUpdate".
 */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));
