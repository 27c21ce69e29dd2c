#!/usr/bin/env python3
"""convsvc from Python with requests and numpy: /v1 with base64 tensors, /v2 with the binary
tensor data extension, and a check that both give the same numbers.

Needs requests and numpy (Debian: python3-requests python3-numpy).
CONVSVC_URL defaults to http://localhost:8080; CONVSVC_API_KEY is sent as a bearer token.
"""
import base64
import json
import os

import numpy as np
import requests

URL = os.environ.get("CONVSVC_URL", "http://localhost:8080").rstrip("/")
HEADERS = {"authorization": f"Bearer {os.environ['CONVSVC_API_KEY']}"} if os.environ.get("CONVSVC_API_KEY") else {}

DTYPES = {"float32": np.float32, "float64": np.float64}
DATATYPES = {np.dtype(np.float32): "FP32", np.dtype(np.float64): "FP64"}


def v1_tensor(a: np.ndarray) -> dict:
    """A numpy array as a /v1 tensor: base64 of its little-endian bytes."""
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    return {"shape": list(a.shape), "dtype": a.dtype.name, "b64": base64.b64encode(a.tobytes()).decode()}


def from_v1(t: dict) -> np.ndarray:
    dtype = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
    if "b64" in t:
        return np.frombuffer(base64.b64decode(t["b64"]), dtype=dtype).reshape(t["shape"])
    return np.array([float(v) for v in t["data"]], dtype=dtype).reshape(t["shape"])


def v1(route: str, body: dict) -> dict:
    res = requests.post(f"{URL}/v1/{route}", json=body, headers=HEADERS, timeout=60)
    if not res.ok:
        raise RuntimeError(f"{res.status_code}: {res.json().get('detail')}")
    return {k: from_v1(t) for k, t in res.json().items()}


def v2_infer(model: str, inputs: dict, parameters: dict) -> dict:
    """Open Inference Protocol with the binary tensor data extension, both ways."""
    arrays = [np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for a in inputs.values()]
    header = json.dumps({
        "parameters": {**parameters, "binary_data_output": True},
        "inputs": [
            {"name": name, "shape": list(a.shape), "datatype": DATATYPES[np.dtype(a.dtype.name)], "parameters": {"binary_data_size": a.nbytes}}
            for name, a in zip(inputs, arrays)
        ],
    }).encode()
    res = requests.post(
        f"{URL}/v2/models/{model}/infer",
        data=header + b"".join(a.tobytes() for a in arrays),
        headers={**HEADERS, "content-type": "application/octet-stream", "inference-header-content-length": str(len(header))},
        timeout=60,
    )
    if not res.ok:
        raise RuntimeError(f"{res.status_code}: {res.json().get('error')}")
    length = int(res.headers.get("inference-header-content-length", len(res.content)))
    answer = json.loads(res.content[:length])
    outputs, offset = {}, length
    for out in answer["outputs"]:
        dtype = np.dtype(np.float64 if out["datatype"] == "FP64" else np.float32).newbyteorder("<")
        size = out.get("parameters", {}).get("binary_data_size")
        if size is None:
            outputs[out["name"]] = np.array([float(v) for v in out["data"]], dtype=dtype).reshape(out["shape"])
        else:
            outputs[out["name"]] = np.frombuffer(res.content[offset:offset + size], dtype=dtype).reshape(out["shape"])
            offset += size
    return outputs


def main() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 8, 8), dtype=np.float32)
    w = rng.standard_normal((3, 4, 3, 3), dtype=np.float32)
    b = rng.standard_normal((4,), dtype=np.float32)

    a = v1("conv-transpose2d/forward", {"input": v1_tensor(x), "weight": v1_tensor(w), "bias": v1_tensor(b), "stride": 2, "padding": 1, "outputPadding": 1})["output"]
    print(f"/v1 conv-transpose2d/forward (base64): output {a.shape}, sum {a.sum():.6f}")

    params = {"stride_h": 2, "stride_w": 2, "padding_h": 1, "padding_w": 1, "output_padding_h": 1, "output_padding_w": 1}
    c = v2_infer("conv_transpose2d", {"input": x, "weight": w, "bias": b}, params)["output"]
    print(f"/v2 conv_transpose2d (binary):         output {c.shape}, sum {c.sum():.6f}")

    if a.shape != c.shape or not np.array_equal(a, c):
        raise SystemExit("/v1 and /v2 disagree")
    print("/v1 and /v2 agree bit for bit")

    cols = v2_infer("im2col", {"input": x}, {"kernel_h": 3, "kernel_w": 3})["columns"]
    print(f"/v2 im2col (binary): columns {cols.shape}")


if __name__ == "__main__":
    main()
