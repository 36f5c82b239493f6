/** A 32-bit fingerprint of a quantized model (every weight and parameter): the validation firmware carries it, and
 * `sqzfw validate` refuses a board whose firmware was built from another model or calibration. */
import { createHash } from 'node:crypto';
import type { QModel } from '../quantize/types.js';

export function modelFingerprint(model: QModel): number {
  const h = createHash('sha256');
  h.update(
    JSON.stringify(model, (_k, v: unknown) => {
      if (ArrayBuffer.isView(v)) {
        const view = v as unknown as { buffer: ArrayBufferLike; byteOffset: number; byteLength: number; constructor: { name: string } };
        return `${view.constructor.name}:${Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64')}`;
      }
      return v;
    }),
  );
  return h.digest().readUInt32LE(0);
}
