#!/usr/bin/env python3
"""The PyTorch golden cases through convsvc's gRPC port with Python's grpcio and stubs generated
by protoc from proto/: what a Triton or KServe gRPC client does. Prints one JSON summary line.

Usage: grpc_golden_client.py STUBS_DIR ADDRESS GOLDEN_DIR
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import numpy as np  # noqa: E402

import grpc_service_pb2 as pb  # noqa: E402
import grpc_service_pb2_grpc as pb_grpc  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402

ADDRESS, GOLDEN = sys.argv[2], sys.argv[3]
DATATYPE = {"float32": "FP32", "float64": "FP64"}
NUMPY = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}
RTOL = {"float32": 1e-4, "float64": 1e-9}
PAIRS = {"stride": "stride", "padding": "padding", "outputPadding": "output_padding", "dilation": "dilation",
         "kernelSize": "kernel", "outputSize": "output"}
SCALARS = {"groups": "groups", "scale": "scale", "computeBias": "compute_bias"}
TENSORS = ["input", "gradOutput", "columns", "weight", "bias", "gradWeight", "gradBias"]


def snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def model_of(route):
    return route.removeprefix("/v1/").removesuffix("/forward").replace("/", "_").replace("-", "_")


def parameter(request, name, value):
    p = request.parameters[name]
    if isinstance(value, bool):
        p.bool_param = value
    elif isinstance(value, int) or float(value).is_integer():
        p.int64_param = int(value)
    else:
        p.double_param = float(value)


def infer_request(model, body, typed):
    request = pb.ModelInferRequest(model_name=model)
    for key, value in body.items():
        if key in PAIRS:
            h, w = (value, value) if isinstance(value, (int, float)) else value
            parameter(request, PAIRS[key] + "_h", h)
            parameter(request, PAIRS[key] + "_w", w)
        elif key == "inputShape":
            parameter(request, "input_h", value[-2])
            parameter(request, "input_w", value[-1])
        elif key in SCALARS:
            parameter(request, SCALARS[key], value)
    for field in TENSORS:
        t = body.get(field)
        if t is None:
            continue
        datatype = DATATYPE[t["dtype"]]
        tensor = request.inputs.add(name=snake(field), datatype=datatype, shape=t["shape"])
        values = np.array(t["data"], dtype=NUMPY[datatype])
        if typed:
            (tensor.contents.fp64_contents if datatype == "FP64" else tensor.contents.fp32_contents).extend(values.tolist())
        else:
            request.raw_input_contents.append(values.tobytes())
    if typed:
        request.parameters["binary_data_output"].bool_param = False
    return request


def outputs_of(response):
    out = {}
    for i, o in enumerate(response.outputs):
        if response.raw_output_contents:
            values = np.frombuffer(response.raw_output_contents[i], dtype=NUMPY[o.datatype])
        else:
            values = np.array(o.contents.fp64_contents if o.datatype == "FP64" else o.contents.fp32_contents,
                              dtype=NUMPY[o.datatype])
        out[o.name] = (list(o.shape), o.datatype, values)
    return out


def safetensors(tensors):
    """The safetensors format: an 8-byte little-endian header length, the JSON header, the bytes."""
    header, data, offset = {}, b"", 0
    for name, t in tensors.items():
        values = np.array(t["data"], dtype=NUMPY[DATATYPE[t["dtype"]]]).tobytes()
        header[name] = {"dtype": "F64" if t["dtype"] == "float64" else "F32", "shape": t["shape"],
                        "data_offsets": [offset, offset + len(values)]}
        data, offset = data + values, offset + len(values)
    head = json.dumps(header).encode()
    return len(head).to_bytes(8, "little") + head + data


def stored_layer(stub):
    """A conv2d golden case as a stored layer: loaded as tritonclient's load_model sends it, run
    with its input alone, counted, unloaded."""
    golden = json.load(open(os.path.join(GOLDEN, "conv2d-forward.json")))
    case = golden["cases"][0]
    body = case["request"]
    fixed = {k: v for k, v in body.items() if k in ("stride", "padding", "dilation", "groups")}
    config = {"backend": "convsvc", "parameters": {"op": {"string_value": "conv2d"}}}
    for key, value in fixed.items():
        if key == "groups":
            config["parameters"]["groups"] = {"string_value": str(value)}
        else:
            h, w = (value, value) if isinstance(value, (int, float)) else value
            config["parameters"][PAIRS[key] + "_h"] = {"string_value": str(h)}
            config["parameters"][PAIRS[key] + "_w"] = {"string_value": str(w)}
    load = pb.RepositoryModelLoadRequest(model_name="golden_layer")
    load.parameters["config"].string_param = json.dumps(config)
    load.parameters["file:1/model.safetensors"].bytes_param = safetensors(
        {k: body[k] for k in ("weight", "bias") if k in body})
    stub.RepositoryModelLoad(load)
    own = {k: v for k, v in body.items() if k not in ("weight", "bias") and k not in fixed}
    got = outputs_of(stub.ModelInfer(infer_request("golden_layer", own, False), timeout=60))
    shape, datatype, values = got["output"]
    want = case["response"]["output"]
    expected = np.array(want["data"], dtype=np.float64)
    stats = stub.ModelStatistics(pb.ModelStatisticsRequest(name="golden_layer")).model_stats[0]
    index = stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True))
    stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="golden_layer"))
    try:
        stub.ModelInfer(infer_request("golden_layer", own, False))
        gone = "OK"
    except grpc.RpcError as err:
        gone = err.code().name
    return {
        "shape_ok": shape == want["shape"],
        "max_error": float(np.max(np.abs(values.astype(np.float64) - expected))),
        "tolerance": RTOL[case["dtype"]] * max(1.0, float(np.max(np.abs(expected)))),
        "success_count": stats.inference_stats.success.count,
        "indexed": [m.name for m in index.models],
        "after_unload": gone,
    }


def main():
    channel = grpc.insecure_channel(ADDRESS, options=[("grpc.max_receive_message_length", -1)])
    stub = pb_grpc.GRPCInferenceServiceStub(channel)
    summary = {"cases": 0, "failures": []}
    summary["live"] = stub.ServerLive(pb.ServerLiveRequest()).live
    summary["ready"] = stub.ServerReady(pb.ServerReadyRequest()).ready
    summary["server"] = stub.ServerMetadata(pb.ServerMetadataRequest()).name
    meta = stub.ModelMetadata(pb.ModelMetadataRequest(name="conv_transpose2d"))
    summary["conv_transpose2d_inputs"] = [t.name for t in meta.inputs]
    health = health_pb2_grpc.HealthStub(channel)
    summary["health"] = health_pb2.HealthCheckResponse.ServingStatus.Name(
        health.Check(health_pb2.HealthCheckRequest(service="inference.GRPCInferenceService")).status)
    try:
        stub.ModelInfer(pb.ModelInferRequest(model_name="conv3d"))
    except grpc.RpcError as err:
        summary["unknown_model"] = [err.code().name, err.details()]
    summary["layer"] = stored_layer(stub)
    for name in sorted(os.listdir(GOLDEN)):
        golden = json.load(open(os.path.join(GOLDEN, name)))
        model = model_of(golden["route"])
        for case in golden["cases"]:
            for typed in (False, True):
                summary["cases"] += 1
                label = f"{model} {case['name']} {'typed' if typed else 'raw'}"
                try:
                    got = outputs_of(stub.ModelInfer(infer_request(model, case["request"], typed), timeout=60))
                except grpc.RpcError as err:
                    summary["failures"].append(f"{label}: {err.code().name} {err.details()}")
                    continue
                for field, want in case["response"].items():
                    shape, datatype, values = got.get(snake(field), (None, None, None))
                    expected = np.array(want["data"], dtype=np.float64)
                    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
                    if shape != want["shape"] or datatype != DATATYPE[want["dtype"]]:
                        summary["failures"].append(f"{label} {field}: shape {shape} {datatype}")
                    elif expected.size and float(np.max(np.abs(values.astype(np.float64) - expected))) > RTOL[case["dtype"]] * scale:
                        summary["failures"].append(f"{label} {field}: values differ")
    print(json.dumps(summary))


main()
