"""
The Python peer of `npm run bench:http`: the /v1/conv-transpose2d/forward contract of convsvc
(tensors as {shape, dtype, b64 | data}; stride, padding, outputPadding, dilation, groups as a
number or a pair) served by FastAPI + uvicorn on PyTorch, one worker process per core and one
torch thread per worker, as a team would write it in an afternoon and deploy it (uvicorn with its
"standard" extras, httptools and uvloop: without them uvicorn's pure-Python h11 writes headers and
body apart, and Nagle's algorithm against the client's delayed ACK holds the small op to ~350
requests/s). Debian packages: python3-fastapi python3-uvicorn python3-httptools python3-uvloop
python3-torch libopenblas0-pthread.

    python3 -m uvicorn app:app --workers 2 --host 127.0.0.1 --port 8090   (in this folder)
"""
import base64

import numpy as np
import torch
import torch.nn.functional as F
from fastapi import FastAPI, Request
from fastapi.responses import Response
import json

torch.set_num_threads(1)
app = FastAPI()

DTYPES = {"float32": np.float32, "float64": np.float64}


def tensor(t):
    dtype = DTYPES[t.get("dtype", "float32")]
    if "b64" in t:
        values = np.frombuffer(base64.b64decode(t["b64"]), dtype=dtype)
    else:
        values = np.asarray(t["data"], dtype=dtype)
    return torch.from_numpy(values.reshape(t["shape"]).copy())


def pair(v, default):
    v = default if v is None else v
    return tuple(v) if isinstance(v, list) else (v, v)


@app.get("/health/ready")
def ready():
    return {"status": "ready"}


@app.post("/v1/conv-transpose2d/forward")
async def forward(request: Request):
    body = json.loads(await request.body())
    x = tensor(body["input"])
    w = tensor(body["weight"])
    b = tensor(body["bias"]) if body.get("bias") is not None else None
    with torch.no_grad():
        y = F.conv_transpose2d(
            x, w, b,
            stride=pair(body.get("stride"), 1),
            padding=pair(body.get("padding"), 0),
            output_padding=pair(body.get("outputPadding"), 0),
            groups=body.get("groups", 1),
            dilation=pair(body.get("dilation"), 1),
        )
    dtype = body["input"].get("dtype", "float32")
    out = y.contiguous().numpy()
    payload = {"output": {"shape": list(out.shape), "dtype": dtype, "b64": base64.b64encode(out.tobytes()).decode("ascii")}}
    return Response(json.dumps(payload), media_type="application/json")
