# Built by scripts/build-native.mjs (npm run build:native), which first checks that pkg-config
# finds OpenBLAS. OpenBLAS is opened at run time (see convsvc_blas.c), so only its headers and
# its library folder are taken from pkg-config here.
{
  "targets": [
    {
      "target_name": "convsvc_blas",
      "sources": ["convsvc_blas.c"],
      "cflags": ["-std=gnu11", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(pkg-config --cflags openblas)"],
      "defines": ["NAPI_VERSION=8", "OPENBLAS_LIBDIR=\"<!(pkg-config --variable=libdir openblas)\""],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
