#!/usr/bin/python3
"""Writes the PyTorch golden vectors under test/fixtures/golden/, one JSON file per route.

Run with `npm run golden` (or the Debian interpreter directly: it is the one that has torch).
The output is committed, so the test suite never needs Python; re-running this script must
reproduce the files byte for byte, which is why inputs come from Python's own seeded Mersenne
Twister (stable across versions) rather than from torch's generator, and torch runs one thread.

Every expected result is computed in float64, also for float32 cases: their inputs are first
rounded to float32, so the service's float32 answer is compared with the exact answer for the
very inputs it was given, not with another float32 implementation's rounding.
"""

import json
import math
import random
import struct
import zlib
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "golden"
GENERATOR = "scripts/gen_golden.py"
DTYPES = ("float32", "float64")


# ---------------------------------------------------------------------------------------------
# Request parameters as a client writes them: an int, an [h, w] list, or None (omitted).

def pair(value, default):
    if value is None:
        return (default, default)
    if isinstance(value, int):
        return (value, value)
    return tuple(value)


def put_params(body, spec, names):
    """Copies the params a case states into the body, in docs/api.md order, leaving defaults out."""
    for name in names:
        if spec.get(name) is not None:
            body[name] = spec[name]


# ---------------------------------------------------------------------------------------------
# Data

def to_float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Source:
    """Seeded per (route, dtype, case) so that adding a case never changes another one's data."""

    def __init__(self, route, dtype, name):
        self.rng = random.Random(zlib.crc32(f"{route}|{dtype}|{name}".encode()))
        self.dtype = dtype

    def values(self, count, low=-1.0, high=1.0):
        out = [self.rng.uniform(low, high) for _ in range(count)]
        return [to_float32(v) for v in out] if self.dtype == "float32" else out

    def tensor(self, shape, **bounds):
        count = math.prod(shape)
        return torch.tensor(self.values(count, **bounds), dtype=torch.float64).reshape(shape)


def encode(t, dtype):
    data = t.detach().reshape(-1).tolist()
    for v in data:
        if not math.isfinite(v):
            raise ValueError("golden data must stay finite")
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def scalar(value, dtype):
    """scale as the client sends it: exact in float32 too, so the reference uses what the kernel sees."""
    return to_float32(value) if dtype == "float32" else value


# ---------------------------------------------------------------------------------------------
# Geometries shared by the four routes of each convolution. Pair fields hold the request form:
# None (default), an int, or [h, w]. `n` None means an unbatched 3-D input.

TRANSPOSED = [
    dict(name="basic square, defaults", n=2, cin=2, cout=3, h=4, w=4, k=3, bias=True),
    dict(name="non-square kernel, stride and padding", n=2, cin=3, cout=2, h=3, w=4, k=[2, 3],
         stride=[2, 1], padding=[1, 0], bias=True),
    dict(name="stride 2, outputPadding 1, groups 2, no bias", n=1, cin=4, cout=2, h=3, w=3, k=3,
         stride=2, padding=1, outputPadding=1, groups=2, bias=False),
    dict(name="outputPadding >= stride (stride 1, dilation 2, outputPadding 1)", n=2, cin=2,
         cout=2, h=3, w=3, k=3, stride=1, padding=1, outputPadding=1, dilation=2, bias=True),
    dict(name="non-square outputPadding [2, 1] with stride [3, 2]", n=1, cin=2, cout=3, h=3,
         w=2, k=[3, 2], stride=[3, 2], padding=[1, 0], outputPadding=[2, 1], bias=True),
    dict(name="dilation [2, 3] with padding [2, 1]", n=1, cin=2, cout=2, h=4, w=4, k=3,
         padding=[2, 1], dilation=[2, 3], bias=True),
    dict(name="groups 3", n=2, cin=3, cout=6, h=3, w=3, k=2, stride=2, groups=3, bias=True),
    dict(name="without bias", n=2, cin=3, cout=2, h=3, w=4, k=[3, 2], stride=[1, 2], bias=False),
    dict(name="unbatched 3-D input", n=None, cin=2, cout=3, h=3, w=4, k=2, stride=2, padding=1,
         bias=True),
    dict(name="1x1 kernel, stride 1", n=2, cin=3, cout=4, h=3, w=5, k=1, bias=True),
    dict(name="stride larger than the kernel", n=1, cin=2, cout=2, h=3, w=3, k=2, stride=3,
         bias=True),
    dict(name="batch 3", n=3, cin=2, cout=2, h=3, w=4, k=[3, 2], padding=[0, 1], bias=True),
    dict(name="groups 2, dilation 2, stride [2, 1], outputPadding [1, 0]", n=2, cin=4, cout=4,
         h=3, w=3, k=2, stride=[2, 1], padding=1, outputPadding=[1, 0], dilation=2, groups=2,
         bias=True),
]

PLAIN = [
    dict(name="basic square, defaults", n=2, cin=2, cout=3, h=5, w=5, k=3, bias=True),
    dict(name="non-square kernel, stride and padding", n=2, cin=3, cout=2, h=5, w=6, k=[2, 3],
         stride=[2, 1], padding=[1, 0], bias=True),
    dict(name="dilation [2, 3] with padding [2, 1]", n=1, cin=2, cout=2, h=7, w=7, k=3,
         padding=[2, 1], dilation=[2, 3], bias=True),
    dict(name="groups 2, stride 2, padding 1, no bias", n=1, cin=4, cout=2, h=5, w=5, k=3,
         stride=2, padding=1, groups=2, bias=False),
    dict(name="groups 3", n=2, cin=3, cout=6, h=4, w=5, k=2, groups=3, bias=True),
    dict(name="without bias", n=2, cin=3, cout=2, h=4, w=5, k=[3, 2], stride=[1, 2], bias=False),
    dict(name="unbatched 3-D input", n=None, cin=2, cout=3, h=4, w=5, k=2, stride=2, padding=1,
         bias=True),
    dict(name="1x1 kernel, stride 1", n=2, cin=3, cout=4, h=3, w=5, k=1, bias=True),
    dict(name="stride larger than the kernel, rows left over", n=1, cin=2, cout=2, h=7, w=8,
         k=2, stride=3, bias=True),
    dict(name="batch 3", n=3, cin=2, cout=2, h=4, w=4, k=[3, 2], padding=[0, 1], bias=True),
    dict(name="kernel covers the padded input (1x1 output)", n=2, cin=2, cout=2, h=1, w=1, k=3,
         padding=1, bias=True),
    dict(name="groups 2, dilation 2, stride [2, 1], padding [2, 0]", n=2, cin=4, cout=4, h=6,
         w=5, k=2, stride=[2, 1], padding=[2, 0], dilation=2, groups=2, bias=True),
]

WINDOWS = [
    dict(name="basic square, defaults", n=2, c=2, h=4, w=4, k=2),
    dict(name="non-square kernel, stride and padding", n=2, c=2, h=5, w=4, k=[2, 3],
         stride=[2, 1], padding=[1, 0]),
    dict(name="dilation [2, 1] with padding 1", n=1, c=2, h=5, w=5, k=3, padding=1,
         dilation=[2, 1]),
    dict(name="stride larger than the kernel, rows left over", n=1, c=2, h=7, w=7, k=2,
         stride=3),
    dict(name="unbatched 3-D input", n=None, c=3, h=4, w=5, k=3, stride=2, padding=1),
    dict(name="1x1 kernel, stride 1", n=2, c=3, h=3, w=4, k=1),
    dict(name="batch 3, dilation 2, padding [1, 2]", n=3, c=1, h=4, w=4, k=3, padding=[1, 2],
         dilation=2),
    dict(name="kernel covers the padded image (one column)", n=1, c=2, h=3, w=2, k=[5, 4],
         padding=1),
]

CONV_PARAMS = ("stride", "padding", "outputPadding", "dilation", "groups")
PLAIN_PARAMS = ("stride", "padding", "dilation", "groups")
WINDOW_PARAMS = ("stride", "padding", "dilation")


# ---------------------------------------------------------------------------------------------
# One convolution, run forward and through autograd in float64.

class Conv:
    def __init__(self, transposed, g, src):
        self.transposed = transposed
        self.g = g
        kh, kw = pair(g["k"], None)
        groups = g.get("groups") or 1
        lead = [] if g["n"] is None else [g["n"]]
        if transposed:
            self.weight_shape = [g["cin"], g["cout"] // groups, kh, kw]
        else:
            self.weight_shape = [g["cout"], g["cin"] // groups, kh, kw]
        self.x = src.tensor(lead + [g["cin"], g["h"], g["w"]]).requires_grad_()
        self.wt = src.tensor(self.weight_shape).requires_grad_()
        self.b = src.tensor([g["cout"]]).requires_grad_() if g["bias"] else None
        kwargs = dict(stride=pair(g.get("stride"), 1), padding=pair(g.get("padding"), 0),
                      dilation=pair(g.get("dilation"), 1), groups=groups)
        if transposed:
            kwargs["output_padding"] = pair(g.get("outputPadding"), 0)
            self.y = F.conv_transpose2d(self.x, self.wt, self.b, **kwargs)
        else:
            self.y = F.conv2d(self.x, self.wt, self.b, **kwargs)
        self.gy = src.tensor(list(self.y.shape))
        wrt = [self.x, self.wt] + ([self.b] if self.b is not None else [])
        grads = torch.autograd.grad(self.y, wrt, grad_outputs=self.gy)
        self.gx, self.gw = grads[0], grads[1]
        # With no bias in the graph, dL/dbias is still the sum of gradOutput over all but C.
        dims = [0, 2, 3] if g["n"] is not None else [1, 2]
        self.gb = grads[2] if self.b is not None else self.gy.sum(dim=dims)

    def params(self, body):
        put_params(body, self.g, CONV_PARAMS if self.transposed else PLAIN_PARAMS)


def conv_cases(transposed, route_kind, dtype, route):
    geometries = TRANSPOSED if transposed else PLAIN
    cases = []
    for index, g in enumerate(geometries):
        src = Source(route, dtype, g["name"])
        conv = Conv(transposed, g, src)
        name = g["name"]
        req, res = {}, {}
        if route_kind == "forward":
            req["input"] = encode(conv.x, dtype)
            req["weight"] = encode(conv.wt, dtype)
            if conv.b is not None:
                req["bias"] = encode(conv.b, dtype)
            conv.params(req)
            res["output"] = encode(conv.y, dtype)
        elif route_kind == "grad-input":
            req["gradOutput"] = encode(conv.gy, dtype)
            req["weight"] = encode(conv.wt, dtype)
            # conv2d needs inputShape (the size is ambiguous); for the transposed op it is
            # optional and checked, so it is given on every other case.
            if not transposed or index % 2 == 1:
                req["inputShape"] = list(conv.x.shape)
                if transposed:
                    name += ", inputShape given"
            conv.params(req)
            res["gradInput"] = encode(conv.gx, dtype)
        elif route_kind == "grad-parameters":
            name, req, res = grad_parameters_case(conv, index, src, dtype)
        elif route_kind == "backward":
            name, req, res = backward_case(conv, index, dtype)
        cases.append({"name": name, "dtype": dtype, "request": req, "response": res})
    return cases


# The variants rotate over the geometries so that each kind of geometry meets several of them.
# A geometry without bias always runs with computeBias false (and so with no gradBias given).
GRAD_PARAMETER_VARIANTS = [
    dict(kernel=True),
    dict(acc_w=True, acc_b=True, scale=0.5),
    dict(kernel=True, acc_w=True, scale=-2.0, compute_bias=True),
    dict(kernel=True, scale=1.5, compute_bias=False),
]

BACKWARD_VARIANTS = [
    dict(),
    dict(scale=0.5),
    dict(scale=-1.5, compute_bias=False),
]


def variant_for(variants, conv, index):
    v = dict(variants[index % len(variants)])
    if not conv.g["bias"]:
        v["compute_bias"] = False
        v["acc_b"] = False
    return v


def describe(v):
    """Names a case after what its request says, so a failing case reads as a specification."""
    parts = []
    if "kernel" in v or "acc_w" in v:
        if v.get("kernel") and v.get("acc_w"):
            parts.append("kernelSize and gradWeight both given")
        elif v.get("kernel"):
            parts.append("kernelSize given")
        else:
            parts.append("kernelSize taken from gradWeight")
    if v.get("acc_w"):
        parts.append("accumulates into gradWeight" + (" and gradBias" if v.get("acc_b") else ""))
    parts.append(f"scale {v['scale']:g}" if "scale" in v else "scale defaulted")
    if "compute_bias" in v:
        parts.append(f"computeBias {'true' if v['compute_bias'] else 'false'}")
    else:
        parts.append("computeBias defaulted")
    return ", ".join(parts)


def grad_parameters_case(conv, index, src, dtype):
    v = variant_for(GRAD_PARAMETER_VARIANTS, conv, index)
    compute_bias = v.get("compute_bias", True)
    scale = scalar(v.get("scale", 1.0), dtype)

    req = {"input": encode(conv.x, dtype), "gradOutput": encode(conv.gy, dtype)}
    if v.get("kernel"):
        req["kernelSize"] = conv.g["k"]
    zeros_w = torch.zeros(conv.weight_shape, dtype=torch.float64)
    zeros_b = torch.zeros(conv.g["cout"], dtype=torch.float64)
    w0 = src.tensor(conv.weight_shape) if v.get("acc_w") else zeros_w
    b0 = src.tensor([conv.g["cout"]]) if v.get("acc_b") else zeros_b
    if v.get("acc_w"):
        req["gradWeight"] = encode(w0, dtype)
    if v.get("acc_b"):
        req["gradBias"] = encode(b0, dtype)
    conv.params(req)
    if "scale" in v:
        req["scale"] = scale
    if "compute_bias" in v:
        req["computeBias"] = compute_bias

    res = {"gradWeight": encode(w0 + scale * conv.gw, dtype)}
    if compute_bias:
        res["gradBias"] = encode(b0 + scale * conv.gb, dtype)
    return f"{conv.g['name']}; {describe(v)}", req, res


def backward_case(conv, index, dtype):
    v = variant_for(BACKWARD_VARIANTS, conv, index)
    compute_bias = v.get("compute_bias", True)
    scale = scalar(v.get("scale", 1.0), dtype)

    req = {"input": encode(conv.x, dtype), "gradOutput": encode(conv.gy, dtype),
           "weight": encode(conv.wt, dtype)}
    conv.params(req)
    if "scale" in v:
        req["scale"] = scale
    if "compute_bias" in v:
        req["computeBias"] = compute_bias

    res = {"gradInput": encode(conv.gx, dtype), "gradWeight": encode(scale * conv.gw, dtype)}
    if compute_bias:
        res["gradBias"] = encode(scale * conv.gb, dtype)
    return f"{conv.g['name']}; {describe(v)}", req, res


# ---------------------------------------------------------------------------------------------
# im2col / col2im: unfold / fold run batched, the batch dim stripped again for unbatched cases.

def window_cases(route_kind, dtype, route):
    cases = []
    for g in WINDOWS:
        src = Source(route, dtype, g["name"])
        kwargs = dict(kernel_size=pair(g["k"], None), stride=pair(g.get("stride"), 1),
                      padding=pair(g.get("padding"), 0), dilation=pair(g.get("dilation"), 1))
        n = g["n"] if g["n"] is not None else 1
        req = {}
        if route_kind == "im2col":
            x = src.tensor([n, g["c"], g["h"], g["w"]])
            cols = F.unfold(x, **kwargs)
            req["input"] = encode(x if g["n"] is not None else x[0], dtype)
            req["kernelSize"] = g["k"]
            put_params(req, g, WINDOW_PARAMS)
            res = {"columns": encode(cols if g["n"] is not None else cols[0], dtype)}
        else:
            probe = F.unfold(torch.zeros(1, g["c"], g["h"], g["w"], dtype=torch.float64), **kwargs)
            cols = src.tensor([n] + list(probe.shape[1:]))
            out = F.fold(cols, output_size=(g["h"], g["w"]), **kwargs)
            req["columns"] = encode(cols if g["n"] is not None else cols[0], dtype)
            # A square image exercises the single-integer form of outputSize.
            req["outputSize"] = g["h"] if g["h"] == g["w"] else [g["h"], g["w"]]
            req["kernelSize"] = g["k"]
            put_params(req, g, WINDOW_PARAMS)
            res = {"output": encode(out if g["n"] is not None else out[0], dtype)}
        cases.append({"name": g["name"], "dtype": dtype, "request": req, "response": res})
    return cases


# ---------------------------------------------------------------------------------------------
# Output: readable JSON with every list of numbers on one line, so a diff shows which case moved.

def dump(value, indent=0):
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dump(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [pad + "  " + dump(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False)


ROUTES = [
    ("/v1/conv-transpose2d/forward", lambda d, r: conv_cases(True, "forward", d, r)),
    ("/v1/conv-transpose2d/grad-input", lambda d, r: conv_cases(True, "grad-input", d, r)),
    ("/v1/conv-transpose2d/grad-parameters",
     lambda d, r: conv_cases(True, "grad-parameters", d, r)),
    ("/v1/conv-transpose2d/backward", lambda d, r: conv_cases(True, "backward", d, r)),
    ("/v1/conv2d/forward", lambda d, r: conv_cases(False, "forward", d, r)),
    ("/v1/conv2d/grad-input", lambda d, r: conv_cases(False, "grad-input", d, r)),
    ("/v1/conv2d/grad-parameters", lambda d, r: conv_cases(False, "grad-parameters", d, r)),
    ("/v1/conv2d/backward", lambda d, r: conv_cases(False, "backward", d, r)),
    ("/v1/im2col", lambda d, r: window_cases("im2col", d, r)),
    ("/v1/col2im", lambda d, r: window_cases("col2im", d, r)),
]


def main():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for route, make in ROUTES:
        cases = [case for dtype in DTYPES for case in make(dtype, route)]
        doc = {"route": route, "generator": GENERATOR, "torch": torch.__version__, "cases": cases}
        path = OUT / (route.removeprefix("/v1/").replace("/", "-") + ".json")
        text = dump(doc) + "\n"
        path.write_text(text)
        total += len(text)
        print(f"{path.relative_to(ROOT)}: {len(cases)} cases, {len(text)} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
