/**
 * The top 5 classes as a user reads them: each class's int8 score dequantized (real = scale * (q - zero point)):
 * logits, and probabilities where the model has a softmax (the softmax output itself, or one beside the logits).
 * The same choice of outputs as the generated firmware (src/emit/library.ts: scoresIndex, probabilityIndex).
 */

/** Quantization of one model output, as the project manifest records it. */
export interface OutputQuant {
  scale: number;
  zeroPoint: number;
  /** The output of a softmax layer: its real values are probabilities. */
  softmax: boolean;
}

export interface ScoredClass {
  index: number;
  /** The int8 score the ranking uses. */
  q: number;
  /** Dequantized score: a logit, or a probability when the scores output is a softmax. */
  score: number;
  /** The softmax probability of this class, when the model has one beside the logits (or the score is one). */
  prob?: number;
  label?: string;
}

export interface Top5 {
  /** The output ranked, and what its dequantized values are. */
  output: string;
  kind: 'logit' | 'prob';
  classes: ScoredClass[];
}

const size = (a: Int8Array | undefined): number => a?.length ?? -1;

/**
 * Top 5 over `outputs` (firmware order): ranked on the first output that is not a softmax (else the first), ties to
 * the lower index, as the firmware ranks them.
 */
export function top5(outputs: Record<string, Int8Array>, order: string[], quant: Record<string, OutputQuant>, labels: string[] = []): Top5 {
  const si = Math.max(0, order.findIndex((o) => !quant[o]?.softmax));
  const name = order[si]!;
  const scores = outputs[name];
  const q = quant[name];
  if (!scores || !q) throw new Error(`top5: no bytes or quantization for output ${name}`);
  const probName = q.softmax ? name : order.find((o, i) => i !== si && quant[o]?.softmax && size(outputs[o]) === scores.length);
  const idx = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, 5);
  const deq = (t: string, i: number): number => quant[t]!.scale * (outputs[t]![i]! - quant[t]!.zeroPoint);
  return {
    output: name,
    kind: q.softmax ? 'prob' : 'logit',
    classes: idx.map((i) => ({
      index: i,
      q: scores[i]!,
      score: deq(name, i),
      ...(probName ? { prob: deq(probName, i) } : {}),
      ...(labels[i] !== undefined ? { label: labels[i] } : {}),
    })),
  };
}

/** The lines `sqzfw emulate` prints: one per class, with the dequantized score and, where known, the probability. */
export function top5Lines(t: Top5): string[] {
  const what = t.kind === 'prob' ? 'softmax probabilities' : `logits${t.classes.some((c) => c.prob !== undefined) ? ' and softmax probabilities' : ''}`;
  return [
    `top5 (output ${t.output}, dequantized: ${what}):`,
    ...t.classes.map((c, k) => {
      const prob = c.prob !== undefined ? `  p ${c.prob.toFixed(4)} (${(100 * c.prob).toFixed(1)}%)` : '';
      const score = t.kind === 'prob' ? '' : `  logit ${c.score.toFixed(4)}`;
      return `  ${k + 1}. class ${c.index}${c.label ? ` (${c.label})` : ''}${score}${prob}  [int8 ${c.q}]`;
    }),
  ];
}
