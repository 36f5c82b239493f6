"""Runs a .tflite model in TensorFlow Lite Micro (the pip tflite-micro interpreter, reference kernels): the oracle
of sqzfw's TFLite tests (src/tflite/tflm.ts).

  python tflm_run.py MODEL.tflite < request.json > reply.json

request: {"inputs": [base64 bytes of the input tensor, in its own type], "tensors": [tensor indices to return],
          "arena": arena bytes, "allocations": true to print TFLM's arena use on stderr after the first run}
reply:   {"runs": [{"outputs": [base64...], "tensors": {"index": base64}}]}
"""
import base64
import json
import sys

import numpy as np
from tflite_micro.python.tflite_micro import runtime


def main():
    path = sys.argv[1]
    req = json.load(sys.stdin)
    tensors = [int(i) for i in req.get("tensors", [])]
    config = runtime.InterpreterConfig.kPreserveAllTensors if tensors else runtime.InterpreterConfig.kAllocationRecording
    it = runtime.Interpreter.from_file(path, arena_size=int(req.get("arena", 64 << 20)), intrepreter_config=config)
    detail = it.get_input_details(0)
    runs = []
    n_out = int(req.get("output_count", 1))
    for k, b64 in enumerate(req["inputs"]):
        x = np.frombuffer(base64.b64decode(b64), dtype=detail["dtype"]).reshape(detail["shape"])
        it.set_input(x, 0)
        it.invoke()
        if k == 0 and req.get("allocations"):
            sys.stderr.flush()
            it.print_allocations()
        outs = [base64.b64encode(np.ascontiguousarray(it.get_output(i)).tobytes()).decode() for i in range(n_out)]
        got = {str(i): base64.b64encode(np.ascontiguousarray(it.GetTensor(i, 0)["tensor_data"]).tobytes()).decode() for i in tensors}
        runs.append({"outputs": outs, "tensors": got})
    json.dump({"runs": runs}, sys.stdout)


if __name__ == "__main__":
    main()
