"""An independent .tflite writer for sqzfw's import tests: builds an int8 SqueezeNet v1.1-style model with TFLite's
own generated schema classes (the object API shipped in the tflite-micro wheel) and the Python flatbuffers runtime,
sharing no code with sqzfw's TypeScript writer. Laid out as TFLite's converter lays files out: uint8 input + QUANTIZE,
CONV_2D (VALID stem, SAME 3x3, fused RELU, per-channel int8 filters on dimension 0, int32 biases), MAX_POOL_2D 3x3/2
VALID, CONCATENATION axis 3, a MEAN (keep_dims false) or AVERAGE_POOL_2D + RESHAPE head, SOFTMAX, DEQUANTIZE to
float32; converter-style tensor names, constants first in the buffer list.

  python tflite_independent_writer.py OUT.tflite [--size 96] [--classes 10] [--head mean|avgpool] [--seed 1]

Quantization is synthetic but sized like a calibrated model's (activations neither saturate nor collapse).
"""
import argparse

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

FIRES = [(16, 64), (16, 64), "pool", (32, 128), (32, 128), "pool", (48, 192), (48, 192), (64, 256), (64, 256)]


class Net:
    def __init__(self, rng):
        self.rng = rng
        self.tensors, self.buffers, self.ops, self.codes = [], [s.BufferT()], [], []

    def quant(self, scales, zps, dim=0):
        q = s.QuantizationParametersT()
        q.scale = [float(np.float32(x)) for x in scales]
        q.zeroPoint = [int(z) for z in zps]
        q.quantizedDimension = dim
        return q

    def tensor(self, name, shape, ttype, quant=None, data=None):
        t = s.TensorT()
        t.name, t.shape, t.type, t.quantization = name, list(shape), ttype, quant
        if data is not None:
            b = s.BufferT()
            b.data = np.frombuffer(data.tobytes(), dtype=np.uint8)
            t.buffer = len(self.buffers)
            self.buffers.append(b)
        self.tensors.append(t)
        return len(self.tensors) - 1

    def act(self, name, shape, scale, zp):
        return self.tensor(name, shape, s.TensorType.INT8, self.quant([scale], [zp]))

    def op(self, code, inputs, outputs, otype=0, options=None):
        if code not in self.codes:
            self.codes.append(code)
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = self.codes.index(code), list(inputs), list(outputs)
        o.builtinOptionsType, o.builtinOptions = otype, options
        self.ops.append(o)

    def conv(self, prefix, x, xshape, xscale, xzp, cout, k, stride, padding, gain=1.0):
        _, h, w, cin = xshape
        rng = self.rng
        wq = rng.integers(-127, 128, size=(cout, k, k, cin), dtype=np.int8)
        # He-initialised real weights (std sqrt(2 / fan-in)); int8 values uniform in +-127 have std 73
        ws = np.sqrt(2 / (k * k * cin)) / 73 * rng.uniform(0.6, 1.4, size=cout) * gain
        bias = rng.integers(-2000, 2000, size=cout, dtype=np.int32)
        if padding == s.Padding.SAME:
            oh, ow = -(-h // stride), -(-w // stride)
        else:
            oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
        # ~ what calibration would pick: accumulator spread of 40 (input) x 73 (weights) x sqrt(fan-in) (halved by the RELU) -> ~30 steps
        oscale = float(np.float32(xscale * np.median(ws) * 45 * np.sqrt(k * k * cin)))
        f = self.tensor(f"{prefix}/Conv2D", (cout, k, k, cin), s.TensorType.INT8, self.quant(ws, [0] * cout), wq)
        b = self.tensor(f"{prefix}/BiasAdd/ReadVariableOp", (cout,), s.TensorType.INT32, self.quant([np.float32(xscale) * np.float32(v) for v in ws], [0] * cout), bias)
        y = self.act(f"{prefix}/Relu;{prefix}/BiasAdd;{prefix}/Conv2D", (1, oh, ow, cout), oscale, -100)
        o = s.Conv2DOptionsT()
        o.padding, o.strideW, o.strideH, o.fusedActivationFunction = padding, stride, stride, s.ActivationFunctionType.RELU
        self.op(s.BuiltinOperator.CONV_2D, [x, f, b], [y], s.BuiltinOptions.Conv2DOptions, o)
        return y, (1, oh, ow, cout), oscale, -100

    def pack(self, inputs, outputs):
        m = s.ModelT()
        m.version, m.description = 3, "independent writer (tflite_micro schema classes)"
        codes = []
        for c in self.codes:
            oc = s.OperatorCodeT()
            oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = c, min(c, 127), 1
            codes.append(oc)
        sg = s.SubGraphT()
        sg.tensors, sg.operators, sg.inputs, sg.outputs, sg.name = self.tensors, self.ops, inputs, outputs, "main"
        m.operatorCodes, m.subgraphs, m.buffers = codes, [sg], self.buffers
        b = flatbuffers.Builder(1 << 20)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def build(size, classes, head, seed):
    net = Net(np.random.default_rng(seed))
    in_scale, in_zp = 1 / 255 * 4, -128 + 1
    u8 = net.tensor("serving_default_input:0", (1, size, size, 3), s.TensorType.UINT8, net.quant([in_scale], [in_zp + 128]))
    x = net.act("sequential/quantize", (1, size, size, 3), in_scale, in_zp)
    net.op(s.BuiltinOperator.QUANTIZE, [u8], [x], s.BuiltinOptions.QuantizeOptions, s.QuantizeOptionsT())
    x, shape, scale, zp = net.conv("sequential/conv1", x, (1, size, size, 3), in_scale, in_zp, 64, 3, 2, s.Padding.VALID)

    def pool(n, x, shape):
        _, h, w, c = shape
        oshape = (1, (h - 3) // 2 + 1, (w - 3) // 2 + 1, c)
        y = net.act(f"sequential/max_pooling2d_{n}/MaxPool", oshape, scale, zp)
        o = s.Pool2DOptionsT()
        o.padding, o.strideW, o.strideH, o.filterWidth, o.filterHeight = s.Padding.VALID, 2, 2, 3, 3
        net.op(s.BuiltinOperator.MAX_POOL_2D, [x], [y], s.BuiltinOptions.Pool2DOptions, o)
        return y, oshape

    x, shape = pool(0, x, shape)
    n = 2
    for f in FIRES:
        if f == "pool":
            x, shape = pool(n, x, shape)
            continue
        sq, e = f
        p = f"sequential/fire{n}"
        sx, sshape, sscale, szp = net.conv(f"{p}/squeeze", x, shape, scale, zp, sq, 1, 1, s.Padding.VALID)
        # Both expands write the concatenation's quantization (TFLite requires it equal).
        e1, _, escale, ezp = net.conv(f"{p}/expand1x1", sx, sshape, sscale, szp, e, 1, 1, s.Padding.VALID)
        e3, eshape, _, _ = net.conv(f"{p}/expand3x3", sx, sshape, sscale, szp, e, 3, 1, s.Padding.SAME)
        net.tensors[e3].quantization = net.quant([escale], [ezp])
        cshape = (1, eshape[1], eshape[2], 2 * e)
        x = net.act(f"{p}/concat", cshape, escale, ezp)
        o = s.ConcatenationOptionsT()
        o.axis = 3
        net.op(s.BuiltinOperator.CONCATENATION, [e1, e3], [x], s.BuiltinOptions.ConcatenationOptions, o)
        shape, scale, zp = cshape, escale, ezp
        n += 1
    # Logits a few units apart (a trained classifier's), so the softmax is not flat: larger real conv10 weights.
    x, shape, scale, zp = net.conv("sequential/conv10", x, shape, scale, zp, classes, 1, 1, s.Padding.VALID, gain=40.0)
    _, h, w, c = shape
    if head == "mean":
        axes = net.tensor("sequential/global_average_pooling2d/Mean/reduction_indices", (2,), s.TensorType.INT32, None, np.array([1, 2], dtype=np.int32))
        g = net.act("sequential/global_average_pooling2d/Mean", (1, c), scale * 0.6, -128)
        o = s.ReducerOptionsT()
        o.keepDims = False
        net.op(s.BuiltinOperator.MEAN, [x, axes], [g], s.BuiltinOptions.ReducerOptions, o)
    else:
        pooled = net.act("sequential/average_pooling2d/AvgPool", (1, 1, 1, c), scale, zp)
        o = s.Pool2DOptionsT()
        o.padding, o.strideW, o.strideH, o.filterWidth, o.filterHeight = s.Padding.VALID, 1, 1, w, h
        net.op(s.BuiltinOperator.AVERAGE_POOL_2D, [x], [pooled], s.BuiltinOptions.Pool2DOptions, o)
        new_shape = net.tensor("sequential/flatten/Const", (2,), s.TensorType.INT32, None, np.array([1, c], dtype=np.int32))
        g = net.act("sequential/flatten/Reshape", (1, c), scale, zp)
        o = s.ReshapeOptionsT()
        o.newShape = [1, c]
        net.op(s.BuiltinOperator.RESHAPE, [pooled, new_shape], [g], s.BuiltinOptions.ReshapeOptions, o)
    prob = net.act("sequential/softmax/Softmax", (1, c), 1 / 256, -128)
    o = s.SoftmaxOptionsT()
    o.beta = 1.0
    net.op(s.BuiltinOperator.SOFTMAX, [g], [prob], s.BuiltinOptions.SoftmaxOptions, o)
    out = net.tensor("StatefulPartitionedCall:0", (1, c), s.TensorType.FLOAT32)
    net.op(s.BuiltinOperator.DEQUANTIZE, [prob], [out], s.BuiltinOptions.DequantizeOptions, s.DequantizeOptionsT())
    return net.pack([u8], [out])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--head", choices=["mean", "avgpool"], default="mean")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(a.out, "wb") as f:
        f.write(build(a.size, a.classes, a.head, a.seed))


if __name__ == "__main__":
    main()
