#!/usr/bin/env bash
# convsvc with curl: a transposed convolution (stride 2, 2x2 input, 3x3 kernel of ones) four ways.
# Needs bash, curl, base64 and od (coreutils). CONVSVC_URL defaults to http://localhost:8080.
set -euo pipefail
URL="${CONVSVC_URL:-http://localhost:8080}"
AUTH=()
[[ -n "${CONVSVC_API_KEY:-}" ]] && AUTH=(-H "authorization: Bearer ${CONVSVC_API_KEY}")

echo '# /v1, JSON numbers'
curl -sS --fail-with-body "${AUTH[@]}" "$URL/v1/conv-transpose2d/forward" -H 'content-type: application/json' -d '{
  "input":  {"shape": [1, 1, 2, 2], "data": [1, 2, 3, 4]},
  "weight": {"shape": [1, 1, 3, 3], "data": [1, 1, 1, 1, 1, 1, 1, 1, 1]},
  "stride": 2}'
echo

# Escapes for printf (shell variables cannot hold NUL bytes). float32 little-endian: 1.0 = 00 00 80 3f, 2.0 = 00 00 00 40, 3.0 = 00 00 40 40, 4.0 = 00 00 80 40.
ONE='\x00\x00\x80\x3f'
INPUT_BYTES="$ONE"'\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40'
WEIGHT_BYTES=""
for _ in {1..9}; do WEIGHT_BYTES+="$ONE"; done

echo '# /v1, base64 tensors'
INPUT_B64=$(printf "$INPUT_BYTES" | base64 -w0)
WEIGHT_B64=$(printf "$WEIGHT_BYTES" | base64 -w0)
curl -sS --fail-with-body "${AUTH[@]}" "$URL/v1/conv-transpose2d/forward" -H 'content-type: application/json' -d '{
  "input":  {"shape": [1, 1, 2, 2], "b64": "'"$INPUT_B64"'"},
  "weight": {"shape": [1, 1, 3, 3], "b64": "'"$WEIGHT_B64"'"},
  "stride": 2, "outputEncoding": "json"}'
echo

echo '# /v2 (Open Inference Protocol), JSON'
curl -sS --fail-with-body "${AUTH[@]}" "$URL/v2/models/conv_transpose2d/infer" -H 'content-type: application/json' -d '{
  "parameters": {"stride_h": 2, "stride_w": 2},
  "inputs": [
    {"name": "input",  "shape": [1, 1, 2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]},
    {"name": "weight", "shape": [1, 1, 3, 3], "datatype": "FP32", "data": [1, 1, 1, 1, 1, 1, 1, 1, 1]}]}'
echo

echo '# /v2, binary tensor data extension both ways'
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
HEADER='{"parameters":{"stride_h":2,"stride_w":2,"binary_data_output":true},"inputs":[{"name":"input","shape":[1,1,2,2],"datatype":"FP32","parameters":{"binary_data_size":16}},{"name":"weight","shape":[1,1,3,3],"datatype":"FP32","parameters":{"binary_data_size":36}}]}'
{ printf '%s' "$HEADER"; printf "$INPUT_BYTES"; printf "$WEIGHT_BYTES"; } > "$WORK/request"
curl -sS --fail-with-body "${AUTH[@]}" "$URL/v2/models/conv_transpose2d/infer" \
  -H 'content-type: application/octet-stream' -H "inference-header-content-length: ${#HEADER}" \
  --data-binary @"$WORK/request" -D "$WORK/headers" -o "$WORK/response"
LENGTH=$(tr -d '\r' < "$WORK/headers" | awk -F': ' 'tolower($1) == "inference-header-content-length" { print $2 }')
head -c "$LENGTH" "$WORK/response"
echo
echo "output (float32, row-major):"
tail -c +"$((LENGTH + 1))" "$WORK/response" | od -A n -t f4 -v -w20
