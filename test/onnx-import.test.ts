/**
 * ONNX import on small generated files: every supported op and attribute against an independent NCHW reference,
 * torchvision-style SqueezeNet exports, and the refusals (unsupported op / attribute, inconsistent files).
 */
import { describe, expect, test } from 'vitest';
import { importOnnx } from '../src/import/index.js';
import { runFloat } from '../src/float/interp.js';
import { UserError } from '../src/errors.js';
import { DT, GraphBuilder, onnxModel, torchvisionSqueezeNet, type AttrValue, type ModelSpec, type NodeSpec, type TensorSpec } from './helpers/onnx-writer.js';
import { nchwToNhwc, randomInput, runReference } from './helpers/onnx-ref.js';

/** Imports `spec`, runs ours and the reference on the same random input, compares the (first) output. */
function checkAgainstReference(spec: ModelSpec, tol = 1e-4): void {
  const bytes = onnxModel(spec);
  const model = importOnnx(bytes, {}, 'test model');
  const inShape = spec.inputs[0].shape as number[];
  const x = randomInput(inShape.map((d) => (typeof d === 'number' ? d : 1)), 42);
  const ref = runReference(spec.nodes, spec.initializers ?? [], { [spec.inputs[0].name]: x }, spec.opset ?? 17);
  const ours = runFloat(model, nchwToNhwc(x));
  const outName = spec.outputs[0].name;
  const want = nchwToNhwc(ref[outName]);
  const got = ours[model.graph.outputs[0]];
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst).toBeLessThan(tol);
}

/** A one-op model around `build`, input [1, c, h, w]. */
function single(build: (b: GraphBuilder, x: string) => string, opts: { c?: number; h?: number; w?: number; opset?: number; outShape?: number[] } = {}): ModelSpec {
  const b = new GraphBuilder(3);
  const out = build(b, 'x');
  return { nodes: b.nodes, initializers: b.inits, inputs: [{ name: 'x', shape: [1, opts.c ?? 4, opts.h ?? 9, opts.w ?? 9] }], outputs: [{ name: out, shape: opts.outShape }], opset: opts.opset };
}

function expectRefusal(spec: ModelSpec | Uint8Array, ...parts: (string | RegExp)[]): UserError {
  const bytes = spec instanceof Uint8Array ? spec : onnxModel(spec);
  let err: unknown;
  try {
    importOnnx(bytes, {}, 'test model');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  const msg = (err as UserError).message;
  for (const p of parts) expect(msg).toMatch(p);
  expect((err as UserError).hint).toBeTruthy();
  return err as UserError;
}

describe('Conv', () => {
  const cases: [string, Record<string, AttrValue>, number | [number, number]][] = [
    ['3x3 no pad', {}, 3],
    ['3x3 pad 1', { pads: { ints: [1, 1, 1, 1] } }, 3],
    ['asymmetric pads [top 0, left 2, bottom 1, right 0]', { pads: { ints: [0, 2, 1, 0] } }, 3],
    ['stride 2', { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } }, 3],
    ['stride 2x1, 3x2 kernel', { strides: { ints: [2, 1] } }, [3, 2]],
    ['1x1 with pad 1 (Caffe conv10)', { pads: { ints: [1, 1, 1, 1] } }, 1],
    ['auto_pad SAME_UPPER stride 2', { auto_pad: { s: 'SAME_UPPER' }, strides: { ints: [2, 2] }, pads: undefined as never }, 4],
    ['auto_pad SAME_LOWER stride 2', { auto_pad: { s: 'SAME_LOWER' }, strides: { ints: [2, 2] }, pads: undefined as never }, 4],
    ['auto_pad VALID', { auto_pad: { s: 'VALID' } }, 3],
  ];
  for (const [name, attrs, k] of cases) {
    test(name, () => {
      const clean = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined));
      checkAgainstReference(
        single((b, x) => {
          const y = b.conv(x, 'c', 4, 5, k, clean);
          if ('auto_pad' in clean) delete b.nodes[0].attrs!.pads;
          return y;
        }),
      );
    });
  }
  test('without bias, without kernel_shape, typed float_data storage', () => {
    checkAgainstReference(
      single((b, x) => {
        const y = b.conv(x, 'c', 4, 3, 3, {}, { bias: false, storage: 'typed' });
        delete b.nodes[0].attrs!.kernel_shape;
        return y;
      }),
    );
  });
  test('double and float16 weights', () => {
    checkAgainstReference(single((b, x) => b.conv(x, 'c', 4, 3, 3, {}, { dataType: DT.DOUBLE })));
    checkAgainstReference(single((b, x) => b.conv(x, 'c', 4, 3, 3, {}, { dataType: DT.FLOAT16 })), 2e-3);
  });
  test('Conv + Relu fuses into one conv node with relu', () => {
    const spec = single((b, x) => b.relu(b.conv(x, 'c', 4, 6, 3), 'r'));
    checkAgainstReference(spec);
    const m = importOnnx(onnxModel(spec));
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['conv']);
    expect(m.graph.nodes[0].op === 'conv' && m.graph.nodes[0].relu).toBe(true);
  });
  test('weights are transposed OIHW -> OHWI', () => {
    const spec = single((b, x) => b.conv(x, 'c', 4, 2, [3, 2]));
    const m = importOnnx(onnxModel(spec));
    const w = spec.initializers!.find((t) => t.name.endsWith('.weight'))!.floats!;
    const ohwi = m.weights[m.graph.nodes[0].name].weights;
    // [o][y][x][c] == [o][c][y][x]
    for (const [o, y, x, c] of [[0, 0, 0, 0], [1, 2, 1, 3], [0, 1, 0, 2]]) expect(ohwi[((o * 3 + y) * 2 + x) * 4 + c]).toBeCloseTo(w[((o * 4 + c) * 3 + y) * 2 + x], 6);
  });
});

describe('pools', () => {
  const pool = (op: string, attrs: Record<string, AttrValue>, h = 9): ModelSpec => single((b, x) => b.op(op, 'p', [x], attrs), { h, w: h + 1 });
  test('MaxPool 3x3/2 ceil_mode 1 and 0', () => {
    checkAgainstReference(pool('MaxPool', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } }, 10));
    checkAgainstReference(pool('MaxPool', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 0 } }, 10));
  });
  test('MaxPool with pads, auto_pad SAME_UPPER, dilations 1, storage_order 0', () => {
    checkAgainstReference(pool('MaxPool', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } }));
    checkAgainstReference(pool('MaxPool', { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, auto_pad: { s: 'SAME_UPPER' }, dilations: { ints: [1, 1] }, storage_order: { i: 0 } }));
  });
  test('AveragePool (count_include_pad 0, with pads and ceil)', () => {
    checkAgainstReference(pool('AveragePool', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { i: 0 } }));
    checkAgainstReference(pool('AveragePool', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } }, 10));
  });
  test('AveragePool count_include_pad 1 without pads is the same as 0', () => {
    checkAgainstReference(pool('AveragePool', { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, count_include_pad: { i: 1 } }, 8));
  });
  test('GlobalAveragePool', () => {
    const spec = single((b, x) => b.op('GlobalAveragePool', 'g', [x]));
    checkAgainstReference(spec);
    const m = importOnnx(onnxModel(spec));
    expect(m.graph.nodes[0]).toMatchObject({ op: 'avgpool', global: true, kernel: [9, 9] });
  });
});

describe('Concat, Add, Softmax, Dropout, Identity, Flatten, Reshape, Constant', () => {
  test('Concat along channels (axis 1 and -3)', () => {
    for (const axis of [1, -3]) {
      checkAgainstReference(
        single((b, x) => {
          const a = b.relu(b.conv(x, 'a', 4, 3, 1), 'ra');
          const c = b.relu(b.conv(x, 'b', 4, 5, 3, { pads: { ints: [1, 1, 1, 1] } }), 'rb');
          return b.op('Concat', 'cat', [a, c], { axis: { i: axis } });
        }),
      );
    }
  });
  test('Add, and Add + Relu fused', () => {
    const spec = single((b, x) => b.relu(b.op('Add', 'add', [b.conv(x, 'a', 4, 4, 3, { pads: { ints: [1, 1, 1, 1] } }), x]), 'r'));
    checkAgainstReference(spec);
    const m = importOnnx(onnxModel(spec));
    expect(m.graph.nodes.find((n) => n.op === 'add')).toMatchObject({ relu: true });
  });
  test('Relu on an already non-negative tensor (after a pool of a ReLU) is dropped', () => {
    const spec = single((b, x) => b.relu(b.op('MaxPool', 'p', [b.relu(b.conv(x, 'c', 4, 4, 1), 'r1')], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }), 'r2'));
    checkAgainstReference(spec);
  });
  test('Softmax over channels: opset 13 axis 1 per pixel, [1,C] axis -1, opset 11 default axis after GAP', () => {
    checkAgainstReference(single((b, x) => b.op('Softmax', 's', [x], { axis: { i: 1 } })));
    checkAgainstReference(single((b, x) => b.op('Softmax', 's', [b.op('Flatten', 'f', [b.op('GlobalAveragePool', 'g', [x])], { axis: { i: 1 } })])));
    checkAgainstReference(single((b, x) => b.op('Softmax', 's', [b.op('GlobalAveragePool', 'g', [x])]), { opset: 11 }));
  });
  test('Dropout (opset 9 attribute form, opset 13 ratio + training_mode inputs), Identity', () => {
    checkAgainstReference(single((b, x) => b.op('GlobalAveragePool', 'g', [b.op('Identity', 'i', [b.op('Dropout', 'd', [x], { ratio: { f: 0.5 } }, 1)])]), { opset: 9 }));
    checkAgainstReference(
      single((b, x) => {
        b.inits.push({ name: 'ratio', dims: [], floats: [0.5] }, { name: 'training', dims: [], dataType: 9, raw: new Uint8Array([0]) });
        return b.op('Dropout', 'd', [b.conv(x, 'c', 4, 2, 1), 'ratio', 'training']);
      }),
    );
    expectRefusal(
      single((b, x) => {
        b.inits.push({ name: 'training', dims: [], dataType: 9, raw: new Uint8Array([1]) });
        return b.op('Dropout', 'd', [b.conv(x, 'c', 4, 2, 1), '', 'training']);
      }),
      'training_mode',
    );
  });
  test('Flatten axis 1 and 0 after a global pool', () => {
    for (const axis of [1, 0]) checkAgainstReference(single((b, x) => b.op('Flatten', 'f', [b.op('GlobalAveragePool', 'g', [x])], { axis: { i: axis } }), { outShape: [1, 4] }));
  });
  test('Reshape to [1,-1], [0,-1], [1,C,1,1] and identity; shape from an initializer or a Constant node', () => {
    for (const shape of [[1, -1], [0, -1], [1, 4, 1, 1]]) {
      checkAgainstReference(single((b, x) => b.op('Reshape', 'r', [b.op('GlobalAveragePool', 'g', [x]), b.constInt64(`s${shape.join('_')}`, shape)])));
    }
    checkAgainstReference(single((b, x) => b.op('Reshape', 'r', [b.conv(x, 'c', 4, 4, 1), b.constInt64('same', [1, 4, 9, 9])])));
    checkAgainstReference(
      single((b, x) => {
        b.nodes.push({ op: 'Constant', name: 'k', inputs: [], outputs: ['kshape'], attrs: { value: { t: { name: 'kshape', dims: [2], ints: [1, -1] } } } });
        return b.op('Reshape', 'r', [b.op('GlobalAveragePool', 'g', [x]), 'kshape']);
      }),
    );
    checkAgainstReference(
      single((b, x) => {
        b.nodes.push({ op: 'Constant', name: 'k', inputs: [], outputs: ['kshape'], attrs: { value_ints: { ints: [1, -1] } } });
        return b.op('Reshape', 'r', [b.op('GlobalAveragePool', 'g', [x]), 'kshape']);
      }),
    );
  });
  test('nodes out of order in the file are sorted; dead nodes are ignored', () => {
    const b = new GraphBuilder(5);
    const y = b.relu(b.conv('x', 'c', 4, 3, 3), 'r');
    const live = [...b.nodes];
    b.op('Sigmoid', 'dead', ['x']); // unsupported but unused
    const spec: ModelSpec = { nodes: [...b.nodes].reverse(), initializers: b.inits, inputs: [{ name: 'x', shape: [1, 4, 9, 9] }], outputs: [{ name: y }] };
    const m = importOnnx(onnxModel(spec));
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['conv']);
    checkAgainstReference({ ...spec, nodes: live });
  });
  test('dynamic batch dim and initializers listed as inputs (legacy exporters)', () => {
    const b = new GraphBuilder(6);
    const y = b.relu(b.conv('x', 'c', 3, 2, 3), 'r');
    const spec: ModelSpec = { nodes: b.nodes, initializers: b.inits, inputs: [{ name: 'x', shape: ['batch', 3, 8, 8] }], outputs: [{ name: y, shape: ['batch', 2, 6, 6] }], initializersAsInputs: true, opset: 9, irVersion: 3 };
    checkAgainstReference(spec);
  });
  test('symbolic H/W need an input size', () => {
    const b = new GraphBuilder(6);
    const y = b.op('GlobalAveragePool', 'g', [b.relu(b.conv('x', 'c', 3, 2, 3), 'r')]);
    const bytes = onnxModel({ nodes: b.nodes, initializers: b.inits, inputs: [{ name: 'x', shape: [1, 3, 'h', 'w'] }], outputs: [{ name: y }] });
    expect(() => importOnnx(bytes)).toThrow(/symbolic height or width/);
    expect(importOnnx(bytes, { inputSize: { h: 10, w: 12 } }).graph.input.dims).toEqual({ h: 10, w: 12, c: 3 });
  });
});

describe('torchvision SqueezeNet exports', () => {
  for (const version of ['1_0', '1_1'] as const) {
    for (const style of ['torchscript', 'legacy'] as const) {
      test(`squeezenet${version} (${style} exporter)`, () => {
        const ex = torchvisionSqueezeNet({ version, style, inputSize: version === '1_0' ? 67 : 64, classes: 12, dynamicBatch: style === 'torchscript' });
        const m = importOnnx(ex.bytes, {}, 'export');
        const convs = m.graph.nodes.filter((n) => n.op === 'conv');
        expect(convs.length).toBe(26);
        expect(convs.every((n) => n.op === 'conv' && n.relu)).toBe(true);
        expect(m.graph.nodes.filter((n) => n.op === 'maxpool').every((n) => n.op === 'maxpool' && n.ceil)).toBe(true);
        expect(m.graph.tensors[m.graph.outputs[0]]).toEqual({ h: 1, w: 1, c: 12 });
        // names are kept (and unique)
        expect(new Set(m.graph.nodes.map((n) => n.name)).size).toBe(m.graph.nodes.length);
        expect(convs[0].name).toBe('/features/features.0/Conv');
      });
    }
  }
  test('squeezenet1_1 export matches the NCHW reference end to end', () => {
    const ex = torchvisionSqueezeNet({ version: '1_1', inputSize: 48, classes: 7 });
    checkAgainstReference(ex.spec, 1e-4);
    const ex0 = torchvisionSqueezeNet({ version: '1_0', inputSize: 51, classes: 5, style: 'legacy' });
    checkAgainstReference(ex0.spec, 1e-4);
  });
});

describe('refusals name the node, op and attribute', () => {
  const conv = (attrs: Record<string, AttrValue>): ModelSpec => single((b, x) => b.conv(x, 'bad', 4, 4, 3, attrs));
  test('unsupported op', () => {
    expectRefusal(single((b, x) => b.op('Sigmoid', 'sig', [x])), '/sig/Sigmoid', 'Sigmoid', /not supported/);
    expectRefusal(single((b, x) => b.op('LRN', 'norm', [x], { size: { i: 5 } })), 'LRN');
  });
  test('unsupported attributes and values', () => {
    expectRefusal(conv({ group: { i: 2 } }), '/bad/Conv', 'group=2');
    expectRefusal(conv({ dilations: { ints: [2, 2] } }), '/bad/Conv', 'dilations');
    expectRefusal(conv({ auto_pad: { s: 'WEIRD' } }), 'auto_pad=WEIRD');
    expectRefusal(conv({ foo: { i: 1 } }), '/bad/Conv', 'attribute "foo"');
    expectRefusal(single((b, x) => b.op('MaxPool', 'p', [x], { kernel_shape: { ints: [2, 2] }, storage_order: { i: 1 } })), 'storage_order');
    expectRefusal(single((b, x) => b.op('AveragePool', 'p', [x], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { i: 1 } })), 'count_include_pad');
    expectRefusal(single((b, x) => b.op('Concat', 'c', [x, x], { axis: { i: 2 } })), 'axis=2');
    expectRefusal(single((b, x) => b.op('Softmax', 's', [x], { axis: { i: 3 } })), /softmax over axis 3/);
    expectRefusal(single((b, x) => b.op('MaxPool', 'p', [x], { kernel_shape: { ints: [2, 2] } }, 1).replace(/$/, '') && b.op('Identity', 'i', [`${b.nodes[0].outputs[1]}`])), /extra output/);
  });
  test('reshapes and flattens that reorder data', () => {
    expectRefusal(single((b, x) => b.op('Flatten', 'f', [x], { axis: { i: 1 } })), /would reorder/);
    expectRefusal(single((b, x) => b.op('Reshape', 'r', [x, b.constInt64('s', [1, 9, 4, 9])])), /not supported/);
    expectRefusal(single((b, x) => b.op('Reshape', 'r', [x, b.constInt64('s', [1, -1, -1])])), /more than one -1/);
  });
  test('ReLU that cannot be fused', () => {
    expectRefusal(single((b, x) => b.relu(x, 'r')), /ReLU can only follow/);
    // Conv output read by two nodes, one of them the ReLU.
    expectRefusal(
      single((b, x) => {
        const c = b.conv(x, 'c', 4, 4, 1);
        const r = b.relu(c, 'r');
        return b.op('Add', 'a', [r, c]);
      }),
      /fused|ReLU/,
    );
  });
  test('inconsistent files', () => {
    const b = new GraphBuilder(1);
    const y = b.conv('x', 'c', 4, 4, 3);
    const noInit: ModelSpec = { nodes: b.nodes, initializers: b.inits.slice(1), inputs: [{ name: 'x', shape: [1, 4, 9, 9] }], outputs: [{ name: y }] };
    expectRefusal(noInit, /reads "c.weight"/, /initializer/);
    const wrongC: ModelSpec = { nodes: b.nodes, initializers: b.inits, inputs: [{ name: 'x', shape: [1, 5, 9, 9] }], outputs: [{ name: y }] };
    expectRefusal(wrongC, /expects 4 input channels/);
    const short: TensorSpec = { ...b.inits[0], floats: (b.inits[0].floats as Float32Array).slice(1) };
    expectRefusal({ ...noInit, initializers: [short, b.inits[1]] }, /needs 144 values/);
    const cyc: NodeSpec[] = [
      { op: 'Relu', name: 'a', inputs: ['t2'], outputs: ['t1'] },
      { op: 'Relu', name: 'b', inputs: ['t1'], outputs: ['t2'] },
    ];
    expectRefusal({ nodes: cyc, inputs: [{ name: 'x', shape: [1, 1, 2, 2] }], outputs: [{ name: 't2' }] }, /cycle/);
    expectRefusal({ ...noInit, initializers: b.inits, inputs: [{ name: 'x', shape: [1, 4, 2, 2] }] }, /does not fit|window/);
    expectRefusal({ ...noInit, initializers: b.inits, inputs: [{ name: 'x', shape: [1, 4, 1e9, 9] }] }, /invalid dims/);
    expectRefusal({ ...noInit, initializers: b.inits, inputs: [{ name: 'x', shape: [2, 4, 9, 9] }] }, /batch 2/);
    expectRefusal({ ...noInit, initializers: b.inits, inputs: [{ name: 'x', shape: [1, 4, 9, 9] }, { name: 'z', shape: [1, 4, 9, 9] }] }, /2 inputs/);
    expectRefusal({ ...noInit, initializers: b.inits, outputs: [{ name: y, shape: [1, 4, 8, 8] }] }, /declared \[1,4,8,8\]/);
    expectRefusal({ ...noInit, initializers: [{ ...b.inits[0], external: true, floats: undefined }, b.inits[1]] }, /external file/);
    expectRefusal({ ...noInit, initializers: [{ ...b.inits[0], dataType: DT.INT8, floats: undefined, raw: new Uint8Array(144) }, b.inits[1]] }, /INT8; weights must be float/);
    const nan = Float32Array.from(b.inits[0].floats as Float32Array);
    nan[5] = Number.NaN;
    expectRefusal({ ...noInit, initializers: [{ ...b.inits[0], floats: nan }, b.inits[1]] }, /non-finite/);
    expectRefusal({ nodes: [], inputs: [{ name: 'x', shape: [1, 1, 2, 2] }], outputs: [{ name: 'x' }] }, /no nodes/);
  });
  test('custom domains and control flow', () => {
    expectRefusal(single((b, x) => {
      const y = b.op('Relu', 'r', [x]);
      b.nodes[0].domain = 'com.microsoft';
      return y;
    }), 'com.microsoft');
    expectRefusal(single((b, x) => b.op('If', 'if', [x], { then_branch: { g: true } })), /If/);
  });
  test('bytes that are not ONNX', () => {
    expectRefusal(new TextEncoder().encode('this is not a model'), /not a valid ONNX file|no graph/);
    expectRefusal(new Uint8Array(0), /no graph/);
  });
});
