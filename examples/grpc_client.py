#!/usr/bin/env python3
"""convsvc over gRPC from Python: grpcio with stubs generated from proto/grpc_service.proto, the
Open Inference Protocol's ModelInfer with numpy arrays as raw little-endian bytes, then the same
call with typed contents, and a check that both agree.

Needs grpcio, protobuf and numpy (Debian: python3-grpcio python3-protobuf python3-numpy). The
stubs are generated into a temporary folder by grpcio-tools when installed, else by protoc and
grpc_python_plugin (Debian: protobuf-compiler protobuf-compiler-grpc).
CONVSVC_GRPC defaults to localhost:8081; CONVSVC_API_KEY is sent as a bearer token.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import grpc
import numpy as np

PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto")
STUBS = tempfile.mkdtemp(prefix="convsvc-stubs-")
try:
    from grpc_tools import protoc

    protoc.main(["protoc", f"-I{PROTO}", f"--python_out={STUBS}", f"--grpc_python_out={STUBS}", "grpc_service.proto"])
except ImportError:
    plugin = shutil.which("grpc_python_plugin")
    subprocess.run(["protoc", f"-I{PROTO}", f"--python_out={STUBS}", f"--grpc_python_out={STUBS}",
                    f"--plugin=protoc-gen-grpc_python={plugin}", "grpc_service.proto"], check=True)
sys.path.insert(0, STUBS)
import grpc_service_pb2 as pb  # noqa: E402
import grpc_service_pb2_grpc as pb_grpc  # noqa: E402

channel = grpc.insecure_channel(os.environ.get("CONVSVC_GRPC", "localhost:8081"),
                                options=[("grpc.max_receive_message_length", 256 * 2**20)])
stub = pb_grpc.GRPCInferenceServiceStub(channel)
metadata = [("authorization", f"Bearer {os.environ['CONVSVC_API_KEY']}")] if os.environ.get("CONVSVC_API_KEY") else []

server = stub.ServerMetadata(pb.ServerMetadataRequest(), metadata=metadata)
print(f"{server.name} {server.version} over gRPC")

rng = np.random.default_rng(7)
x = rng.standard_normal((2, 4, 8, 8), dtype=np.float32)
w = rng.standard_normal((4, 3, 4, 4), dtype=np.float32)


def request(typed: bool) -> pb.ModelInferRequest:
    r = pb.ModelInferRequest(model_name="conv_transpose2d")
    for name, value in {"stride_h": 2, "stride_w": 2, "padding_h": 1, "padding_w": 1}.items():
        r.parameters[name].int64_param = value
    for name, a in {"input": x, "weight": w}.items():
        tensor = r.inputs.add(name=name, datatype="FP32", shape=a.shape)
        if typed:
            tensor.contents.fp32_contents.extend(a.ravel().tolist())
        else:
            r.raw_input_contents.append(a.astype("<f4").tobytes())
    if typed:
        r.parameters["binary_data_output"].bool_param = False
    return r


raw = stub.ModelInfer(request(typed=False), metadata=metadata, timeout=60)
out = raw.outputs[0]
y = np.frombuffer(raw.raw_output_contents[0], dtype="<f4").reshape(out.shape)
print(f"ModelInfer (raw contents): {out.name} {out.datatype} {tuple(y.shape)}")
typed = stub.ModelInfer(request(typed=True), metadata=metadata, timeout=60)
same = np.array_equal(np.array(typed.outputs[0].contents.fp32_contents, dtype=np.float32), y.ravel())
print("raw and typed contents agree bit for bit" if same else "raw and typed contents DIFFER")
shutil.rmtree(STUBS, ignore_errors=True)
sys.exit(0 if same else 1)
