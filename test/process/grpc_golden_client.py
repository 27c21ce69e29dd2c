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
