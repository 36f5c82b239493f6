import { describe, expect, test } from 'vitest';
import { graphInfo } from '../src/graph/info.js';
import { buildSqueezeNet, VARIANTS } from '../src/graph/squeezenet.js';
import { checkGraph, windowOut } from '../src/graph/shapes.js';
import { UserError } from '../src/errors.js';

describe('SqueezeNet builders', () => {
  test('v1.1 at 224 with 1000 classes: 1,235,496 parameters and 349.2 M MACs', () => {
    const info = graphInfo(buildSqueezeNet({ variant: 'v1.1', inputSize: 224, classes: 1000 }));
    expect(info.params).toBe(1235496);
    expect((info.macs / 1e6).toFixed(1)).toBe('349.2');
  });

  test('v1.0 at 227: 1,248,424 parameters, 111 -> 55 -> 27 -> 13 spatial sizes', () => {
    const g = buildSqueezeNet({ variant: 'v1.0', inputSize: 227, classes: 1000 });
    expect(graphInfo(g).params).toBe(1248424);
    expect([g.tensors.conv1.h, g.tensors.pool1.h, g.tensors.pool4.h, g.tensors.pool8.h, g.tensors.conv10.h]).toEqual([111, 55, 27, 13, 13]);
    expect(g.tensors['fire9.concat'].c).toBe(512);
  });

  test('v1.1 pools after conv1, fire3 and fire5; v1.0 after conv1, fire4 and fire8', () => {
    const pools = (v: 'v1.0' | 'v1.1') => buildSqueezeNet({ variant: v, inputSize: 224, classes: 10 }).nodes.filter((n) => n.op === 'maxpool').map((n) => n.inputs[0]);
    expect(pools('v1.1')).toEqual(['conv1', 'fire3.concat', 'fire5.concat']);
    expect(pools('v1.0')).toEqual(['conv1', 'fire4.concat', 'fire8.concat']);
  });

  test('bypass variants: simple adds around fire3/5/7/9, complex adds 1x1 convs around fire2/4/6/8', () => {
    const simple = buildSqueezeNet({ variant: 'v1.0-simple-bypass', inputSize: 96, classes: 10 });
    const complex = buildSqueezeNet({ variant: 'v1.0-complex-bypass', inputSize: 96, classes: 10 });
    expect(simple.nodes.filter((n) => n.op === 'add').map((n) => n.name)).toEqual(['fire3.bypass', 'fire5.bypass', 'fire7.bypass', 'fire9.bypass']);
    expect(complex.nodes.filter((n) => n.op === 'add')).toHaveLength(8);
    expect(complex.nodes.filter((n) => n.name.endsWith('bypass_conv')).map((n) => n.name)).toEqual(['fire2.bypass_conv', 'fire4.bypass_conv', 'fire6.bypass_conv', 'fire8.bypass_conv']);
  });

  test.each([...VARIANTS])('%s builds at sizes 64, 96, 128, 224, 227 and passes checkGraph', (variant) => {
    for (const size of [64, 96, 128, 224, 227]) {
      const g = buildSqueezeNet({ variant, inputSize: size, classes: 10 });
      expect(() => checkGraph(g)).not.toThrow();
      expect(g.tensors.prob).toEqual({ h: 1, w: 1, c: 10 });
    }
  });

  test('ceil-mode pooling follows PyTorch: the last window must start inside the input', () => {
    expect(windowOut(111, 3, 2, 0, 0, true)).toBe(55);
    expect(windowOut(112, 3, 2, 0, 0, true)).toBe(56);
    expect(windowOut(112, 3, 2, 0, 0, false)).toBe(55);
    expect(windowOut(6, 3, 2, 1, 1, true)).toBe(4); // would be 4 without the rule too: (6+2-3)/2 ceil = 3, +1
    expect(windowOut(5, 2, 2, 0, 1, true)).toBe(3);
  });

  test('too small an input and a bad variant are user errors naming the problem', () => {
    expect(() => buildSqueezeNet({ variant: 'v1.0', inputSize: 16, classes: 10 })).toThrow(UserError);
    expect(() => buildSqueezeNet({ variant: 'v1.0', inputSize: 16, classes: 10 })).toThrow(/does not fit/);
    expect(() => buildSqueezeNet({ variant: 'v2' as never, inputSize: 224, classes: 10 })).toThrow(/unknown SqueezeNet variant "v2"/);
  });

  test('checkGraph catches a wrong recorded shape and a use before definition', () => {
    const g = buildSqueezeNet({ variant: 'v1.1', inputSize: 64, classes: 10 });
    expect(() => checkGraph({ ...g, tensors: { ...g.tensors, pool1: { h: 1, w: 1, c: 1 } } })).toThrow(/pool1 is recorded as 1x1x1/);
    const swapped = [...g.nodes];
    [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
    expect(() => checkGraph({ ...g, nodes: swapped })).toThrow(/reads conv1 before it is produced/);
  });
});
