/** Option-argument parsers shared by every command: a bad value is commander's one-line error naming the option. */
import { InvalidArgumentError } from 'commander';
import { isVariant, VARIANTS, type Variant } from '../graph/squeezenet.js';

/** An integer from min to max; without max, any integer of at least min (`a positive integer` for min 1). */
export const intArg = (name: string, min: number, max?: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    const range = max !== undefined ? `from ${min} to ${max}` : min === 1 ? '' : `of at least ${min}`;
    throw new InvalidArgumentError(max === undefined && min === 1 ? `${name} must be a positive integer` : `${name} must be an integer ${range}`);
  }
  return n;
};

/** A finite number from min to max. */
export const numArg = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
  return n;
};

/** A fraction in [0, 1). */
export const fractionArg = (name: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`${name} must be a fraction from 0 to below 1 (e.g. 0.5)`);
  return n;
};

/** A SqueezeNet variant name. */
export const variantArg = (v: string): Variant => {
  if (!isVariant(v)) throw new InvalidArgumentError(`unknown variant; use one of: ${VARIANTS.join(', ')}`);
  return v;
};
