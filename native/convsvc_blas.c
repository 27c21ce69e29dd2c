/*
 * convsvc's native GEMM: CBLAS (OpenBLAS) sgemm / dgemm, im2col / col2im, and the two fused
 * column steps, working in place on the typed arrays JavaScript hands in (no copies).
 *
 * Every argument is checked before anything is read or written: numbers must be numbers,
 * dimensions and offsets whole and in range, leading dimensions at least a row long, arrays
 * Float32Array or Float64Array of the element type asked for and long enough for every element
 * the call touches. A violation throws a TypeError or RangeError; no call writes out of bounds.
 *
 * OpenBLAS is opened with dlopen at module init rather than linked: its pthread build starts
 * (cores - 1) threads while it loads unless OPENBLAS_NUM_THREADS is 1 in the process environment
 * at that moment, and a linked library loads before any code of ours can set it. The worker pool
 * is the parallelism, so each call runs on the calling thread only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <node_api.h>

/* ---- OpenBLAS, opened once per process ---------------------------------------------------- */

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE,
                         const blasint, const blasint, const blasint, const float, const float *, const blasint,
                         const float *, const blasint, const float, float *, const blasint);
typedef void (*dgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE,
                         const blasint, const blasint, const blasint, const double, const double *, const blasint,
                         const double *, const blasint, const double, double *, const blasint);

static struct {
  sgemm_fn sgemm;
  dgemm_fn dgemm;
  void (*set_num_threads)(int);
  int (*get_num_threads)(void);
  char *(*get_config)(void);
  char *(*get_corename)(void);
  char error[512];
} blas;

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

#ifndef OPENBLAS_LIBDIR
#define OPENBLAS_LIBDIR ""
#endif

static void open_blas(void) {
  /* Must be in the environment before the library's constructor reads it. */
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  void *lib = NULL;
  if (OPENBLAS_LIBDIR[0] != '\0') lib = dlopen(OPENBLAS_LIBDIR "/libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    snprintf(blas.error, sizeof blas.error, "cannot open OpenBLAS: %s", dlerror());
    return;
  }
  blas.sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
  blas.dgemm = (dgemm_fn)dlsym(lib, "cblas_dgemm");
  blas.set_num_threads = (void (*)(int))dlsym(lib, "openblas_set_num_threads");
  blas.get_num_threads = (int (*)(void))dlsym(lib, "openblas_get_num_threads");
  blas.get_config = (char *(*)(void))dlsym(lib, "openblas_get_config");
  blas.get_corename = (char *(*)(void))dlsym(lib, "openblas_get_corename");
  if (!blas.sgemm || !blas.dgemm || !blas.set_num_threads || !blas.get_num_threads || !blas.get_config || !blas.get_corename) {
    snprintf(blas.error, sizeof blas.error, "the library opened as OpenBLAS lacks cblas_sgemm, cblas_dgemm or openblas_*");
    blas.sgemm = NULL;
    return;
  }
  /* Also where the library was already loaded (threads started) by someone else. */
  blas.set_num_threads(1);
}

/* ---- argument checks ---------------------------------------------------------------------- */

#define MAX_DIM INT32_MAX           /* blasint is 32-bit in Debian's OpenBLAS */
#define MAX_OFFSET 9007199254740991 /* 2^53 - 1: beyond it a JS number is not a whole index */

typedef struct {
  napi_env env;
  const char *fn;
  napi_value *argv;
  bool failed;
} Args;

static void throw_type(Args *a, const char *what, const char *why) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s %s", a->fn, what, why);
  napi_throw_type_error(a->env, NULL, msg);
  a->failed = true;
}

static void throw_range(Args *a, const char *what, const char *why) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s %s", a->fn, what, why);
  napi_throw_range_error(a->env, NULL, msg);
  a->failed = true;
}

static bool arg_bool(Args *a, int i, const char *name) {
  bool v = false;
  if (a->failed) return false;
  if (napi_get_value_bool(a->env, a->argv[i], &v) != napi_ok) throw_type(a, name, "must be a boolean");
  return v;
}

static double arg_number(Args *a, int i, const char *name) {
  double v = 0;
  if (a->failed) return 0;
  if (napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) throw_type(a, name, "must be a number");
  return v;
}

/* A whole number in [min, max]; NaN, fractions and infinities are range errors. */
static int64_t arg_int(Args *a, int i, const char *name, int64_t min, int64_t max) {
  double v = arg_number(a, i, name);
  if (a->failed) return 0;
  if (!(v >= (double)min && v <= (double)max) || v != floor(v)) {
    char why[96];
    snprintf(why, sizeof why, "must be a whole number in [%lld, %lld]", (long long)min, (long long)max);
    throw_range(a, name, why);
    return 0;
  }
  return (int64_t)v;
}

typedef struct {
  napi_typedarray_type type;
  void *data;
  int64_t length;
} Floats;

static Floats arg_floats(Args *a, int i, const char *name) {
  Floats f = {napi_int8_array, NULL, 0};
  bool is_typed = false;
  if (a->failed) return f;
  if (napi_is_typedarray(a->env, a->argv[i], &is_typed) != napi_ok || !is_typed) {
    throw_type(a, name, "must be a Float32Array or Float64Array");
    return f;
  }
  size_t length = 0;
  if (napi_get_typedarray_info(a->env, a->argv[i], &f.type, &length, &f.data, NULL, NULL) != napi_ok ||
      (f.type != napi_float32_array && f.type != napi_float64_array)) {
    throw_type(a, name, "must be a Float32Array or Float64Array");
    return f;
  }
  f.length = (int64_t)length;
  return f;
}

static void same_kind(Args *a, const Floats *f, napi_typedarray_type type, const char *name) {
  if (a->failed) return;
  if (f->type != type) throw_type(a, name, type == napi_float32_array ? "must be a Float32Array like the others" : "must be a Float64Array like the others");
}

/* Elements from the first to the last of a stored rows x cols block, rows ld apart. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

/* A stored rows x cols matrix at offset with leading dimension ld must lie inside f. */
static void check_block(Args *a, const Floats *f, const char *name, int64_t offset, int64_t rows, int64_t cols, int64_t ld) {
  if (a->failed) return;
  if (ld < cols) {
    throw_range(a, name, "has a leading dimension shorter than its rows");
    return;
  }
  if (offset + span(rows, cols, ld) > f->length) throw_range(a, name, "is too short for its offset, rows and leading dimension");
}

static void check_run(Args *a, const Floats *f, const char *name, int64_t offset, int64_t length) {
  if (a->failed) return;
  if (offset + length > f->length) throw_range(a, name, "is too short for its offset and the grid");
}

/* ---- the grid shared by im2col and col2im ------------------------------------------------- */

typedef struct {
  int64_t channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW;
  int64_t rows;  /* channels * kH * kW: rows of the columns */
  int64_t plane; /* colH * colW: columns of the columns */
  int64_t image; /* channels * height * width */
} Grid;

static int64_t product(Args *a, int64_t x, int64_t y) {
  int64_t r = 0;
  if (a->failed) return 0;
  if (__builtin_mul_overflow(x, y, &r) || r > MAX_OFFSET) {
    throw_range(a, "grid", "has more elements than an array can hold");
    return 0;
  }
  return r;
}

/* 13 arguments from i: channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW. */
static Grid arg_grid(Args *a, int i) {
  Grid g;
  g.channels = arg_int(a, i + 0, "channels", 0, MAX_DIM);
  g.height = arg_int(a, i + 1, "height", 0, MAX_DIM);
  g.width = arg_int(a, i + 2, "width", 0, MAX_DIM);
  g.kH = arg_int(a, i + 3, "kH", 1, MAX_DIM);
  g.kW = arg_int(a, i + 4, "kW", 1, MAX_DIM);
  g.sH = arg_int(a, i + 5, "sH", 1, MAX_DIM);
  g.sW = arg_int(a, i + 6, "sW", 1, MAX_DIM);
  g.pH = arg_int(a, i + 7, "pH", 0, MAX_DIM);
  g.pW = arg_int(a, i + 8, "pW", 0, MAX_DIM);
  g.dH = arg_int(a, i + 9, "dH", 1, MAX_DIM);
  g.dW = arg_int(a, i + 10, "dW", 1, MAX_DIM);
  g.colH = arg_int(a, i + 11, "colH", 0, MAX_DIM);
  g.colW = arg_int(a, i + 12, "colW", 0, MAX_DIM);
  g.rows = product(a, product(a, g.channels, g.kH), g.kW);
  g.plane = product(a, g.colH, g.colW);
  g.image = product(a, product(a, g.channels, g.height), g.width);
  product(a, g.rows, g.plane);
  return g;
}

/*
 * The loops of workers/kernels/im2col.ts and col2im.ts, with every image index bounded by the
 * grid itself, so a grid that does not describe the image can only read or write inside it.
 * col2im adds in the same order as col2im.ts: the results are the same to the bit.
 */
#define COLUMN_LOOPS(T, BODY)                                                      \
  for (int64_t c = 0; c < g->channels; c++) {                                      \
    const int64_t plane_at = c * g->height * g->width;                             \
    for (int64_t kh = 0; kh < g->kH; kh++) {                                       \
      for (int64_t kw = 0; kw < g->kW; kw++) {                                     \
        const int64_t row = ((c * g->kH + kh) * g->kW + kw) * g->plane;            \
        for (int64_t hc = 0; hc < g->colH; hc++) {                                 \
          const int64_t h = hc * g->sH - g->pH + kh * g->dH;                       \
          const bool h_in = h >= 0 && h < g->height;                               \
          for (int64_t wc = 0; wc < g->colW; wc++) {                               \
            const int64_t w = wc * g->sW - g->pW + kw * g->dW;                     \
            const bool inside = h_in && w >= 0 && w < g->width;                    \
            const int64_t at = row + hc * g->colW + wc;                            \
            const int64_t px = plane_at + h * g->width + w;                        \
            BODY;                                                                  \
          }                                                                        \
        }                                                                          \
      }                                                                            \
    }                                                                              \
  }

#define DEFINE_COLUMNS(T, SUFFIX)                                                   \
  static void im2col_##SUFFIX(const Grid *g, const T *image, T *columns) {          \
    COLUMN_LOOPS(T, columns[at] = inside ? image[px] : (T)0)                        \
  }                                                                                 \
  static void col2im_##SUFFIX(const Grid *g, T *image, const T *columns) {          \
    memset(image, 0, (size_t)g->image * sizeof(T));                                 \
    COLUMN_LOOPS(T, if (inside) image[px] += columns[at])                           \
  }

DEFINE_COLUMNS(float, f32)
DEFINE_COLUMNS(double, f64)

/* ---- GEMM --------------------------------------------------------------------------------- */

/*
 * Row-major C = alpha op(A) op(B) + beta C on checked blocks. Where the product is empty (k = 0)
 * or alpha is 0, only C is scaled, as in gemm.ts: beta 0 writes zeros without reading C, and
 * BLAS is not called (it would reject a leading dimension of 0 for an empty A).
 */
#define DEFINE_GEMM(T, SUFFIX, CALL)                                                                    \
  static void gemm_##SUFFIX(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T *a, \
                            int64_t lda, const T *b, int64_t ldb, double beta, T *c, int64_t ldc) {      \
    if (m == 0 || n == 0) return;                                                                        \
    if (k == 0 || alpha == 0) {                                                                          \
      if (beta == 1) return;                                                                             \
      for (int64_t i = 0; i < m; i++)                                                                    \
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? (T)0 : (T)(beta * (double)c[i * ldc + j]); \
      return;                                                                                            \
    }                                                                                                    \
    CALL(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m,      \
         (blasint)n, (blasint)k, (T)alpha, a, (blasint)lda, b, (blasint)ldb, (T)beta, c, (blasint)ldc);  \
  }

DEFINE_GEMM(float, f32, blas.sgemm)
DEFINE_GEMM(double, f64, blas.dgemm)

static size_t element_bytes(napi_typedarray_type t) { return t == napi_float32_array ? 4 : 8; }
#define AT(f, offset) ((void *)((char *)(f).data + (size_t)(offset) * element_bytes((f).type)))

static bool get_args(napi_env env, napi_callback_info info, const char *fn, size_t want, napi_value *argv, Args *a) {
  size_t argc = want;
  a->env = env;
  a->fn = fn;
  a->argv = argv;
  a->failed = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    char why[64];
    snprintf(why, sizeof why, "takes %zu arguments", want);
    throw_type(a, "it", why);
    return false;
  }
  return true;
}

typedef struct {
  bool ta, tb;
  int64_t m, n, k;
  double alpha, beta;
  Floats a, b, c;
  int64_t ao, lda, bo, ldb, co, ldc;
} GemmCall;

/* (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) */
static napi_value gemm_entry(napi_env env, napi_callback_info info, const char *fn, napi_typedarray_type type) {
  napi_value argv[16];
  Args a;
  if (!get_args(env, info, fn, 16, argv, &a)) return NULL;
  GemmCall g;
  g.ta = arg_bool(&a, 0, "transA");
  g.tb = arg_bool(&a, 1, "transB");
  g.m = arg_int(&a, 2, "m", 0, MAX_DIM);
  g.n = arg_int(&a, 3, "n", 0, MAX_DIM);
  g.k = arg_int(&a, 4, "k", 0, MAX_DIM);
  g.alpha = arg_number(&a, 5, "alpha");
  g.a = arg_floats(&a, 6, "a");
  g.ao = arg_int(&a, 7, "aOffset", 0, MAX_OFFSET);
  g.lda = arg_int(&a, 8, "lda", 0, MAX_DIM);
  g.b = arg_floats(&a, 9, "b");
  g.bo = arg_int(&a, 10, "bOffset", 0, MAX_OFFSET);
  g.ldb = arg_int(&a, 11, "ldb", 0, MAX_DIM);
  g.beta = arg_number(&a, 12, "beta");
  g.c = arg_floats(&a, 13, "c");
  g.co = arg_int(&a, 14, "cOffset", 0, MAX_OFFSET);
  g.ldc = arg_int(&a, 15, "ldc", 0, MAX_DIM);
  same_kind(&a, &g.a, type, "a");
  same_kind(&a, &g.b, type, "b");
  same_kind(&a, &g.c, type, "c");
  check_block(&a, &g.a, "a", g.ao, g.ta ? g.k : g.m, g.ta ? g.m : g.k, g.lda);
  check_block(&a, &g.b, "b", g.bo, g.tb ? g.n : g.k, g.tb ? g.k : g.n, g.ldb);
  check_block(&a, &g.c, "c", g.co, g.m, g.n, g.ldc);
  if (a.failed) return NULL;
  if (type == napi_float32_array)
    gemm_f32(g.ta, g.tb, g.m, g.n, g.k, g.alpha, AT(g.a, g.ao), g.lda, AT(g.b, g.bo), g.ldb, g.beta, AT(g.c, g.co), g.ldc);
  else
    gemm_f64(g.ta, g.tb, g.m, g.n, g.k, g.alpha, AT(g.a, g.ao), g.lda, AT(g.b, g.bo), g.ldb, g.beta, AT(g.c, g.co), g.ldc);
  return NULL;
}

static napi_value sgemm(napi_env env, napi_callback_info info) { return gemm_entry(env, info, "sgemm", napi_float32_array); }
static napi_value dgemm(napi_env env, napi_callback_info info) { return gemm_entry(env, info, "dgemm", napi_float64_array); }

/* (grid x 13, image, imageOffset, columns, columnsOffset): one sample, either direction. */
static napi_value columns_entry(napi_env env, napi_callback_info info, bool fold) {
  napi_value argv[17];
  Args a;
  if (!get_args(env, info, fold ? "col2im" : "im2col", 17, argv, &a)) return NULL;
  Grid g = arg_grid(&a, 0);
  Floats image = arg_floats(&a, 13, "image");
  int64_t io = arg_int(&a, 14, "imageOffset", 0, MAX_OFFSET);
  Floats columns = arg_floats(&a, 15, "columns");
  int64_t co = arg_int(&a, 16, "columnsOffset", 0, MAX_OFFSET);
  same_kind(&a, &columns, image.type, "columns");
  check_run(&a, &image, "image", io, g.image);
  check_run(&a, &columns, "columns", co, g.rows * g.plane);
  if (a.failed) return NULL;
  if (image.type == napi_float32_array) {
    if (fold) col2im_f32(&g, AT(image, io), AT(columns, co));
    else im2col_f32(&g, AT(image, io), AT(columns, co));
  } else {
    if (fold) col2im_f64(&g, AT(image, io), AT(columns, co));
    else im2col_f64(&g, AT(image, io), AT(columns, co));
  }
  return NULL;
}

static napi_value im2col(napi_env env, napi_callback_info info) { return columns_entry(env, info, false); }
static napi_value col2im(napi_env env, napi_callback_info info) { return columns_entry(env, info, true); }

/*
 * (transA, m, n, k, a, aOffset, lda, b, bOffset, ldb, grid x 13, image, imageOffset, columns):
 * columns (m x n, m = channels kH kW, n = colH colW) = op(A) B, folded onto the image. The
 * columns are the caller's scratch and never go back to JavaScript.
 */
static napi_value gemm_col2im(napi_env env, napi_callback_info info) {
  napi_value argv[26];
  Args a;
  if (!get_args(env, info, "gemmCol2im", 26, argv, &a)) return NULL;
  bool ta = arg_bool(&a, 0, "transA");
  int64_t m = arg_int(&a, 1, "m", 0, MAX_DIM), n = arg_int(&a, 2, "n", 0, MAX_DIM), k = arg_int(&a, 3, "k", 0, MAX_DIM);
  Floats fa = arg_floats(&a, 4, "a");
  int64_t ao = arg_int(&a, 5, "aOffset", 0, MAX_OFFSET), lda = arg_int(&a, 6, "lda", 0, MAX_DIM);
  Floats fb = arg_floats(&a, 7, "b");
  int64_t bo = arg_int(&a, 8, "bOffset", 0, MAX_OFFSET), ldb = arg_int(&a, 9, "ldb", 0, MAX_DIM);
  Grid g = arg_grid(&a, 10);
  Floats image = arg_floats(&a, 23, "image");
  int64_t io = arg_int(&a, 24, "imageOffset", 0, MAX_OFFSET);
  Floats columns = arg_floats(&a, 25, "columns");
  same_kind(&a, &fa, image.type, "a");
  same_kind(&a, &fb, image.type, "b");
  same_kind(&a, &columns, image.type, "columns");
  if (!a.failed && (m != g.rows || n != g.plane)) throw_range(&a, "m x n", "must be the grid's columns (channels*kH*kW x colH*colW)");
  check_block(&a, &fa, "a", ao, ta ? k : m, ta ? m : k, lda);
  check_block(&a, &fb, "b", bo, k, n, ldb);
  check_run(&a, &image, "image", io, g.image);
  check_run(&a, &columns, "columns", 0, m * n);
  if (a.failed) return NULL;
  if (image.type == napi_float32_array) {
    gemm_f32(ta, false, m, n, k, 1, AT(fa, ao), lda, AT(fb, bo), ldb, 0, columns.data, n);
    col2im_f32(&g, AT(image, io), columns.data);
  } else {
    gemm_f64(ta, false, m, n, k, 1, AT(fa, ao), lda, AT(fb, bo), ldb, 0, columns.data, n);
    col2im_f64(&g, AT(image, io), columns.data);
  }
  return NULL;
}

/*
 * (grid x 13, image, imageOffset, transA, transB, m, n, k, alpha, a, aOffset, lda, beta, c,
 * cOffset, ldc, columns): B = im2col(image) in the caller's scratch (channels kH kW rows of
 * colH colW, op(B) k x n), then C = alpha op(A) op(B) + beta C.
 */
static napi_value im2col_gemm(napi_env env, napi_callback_info info) {
  napi_value argv[29];
  Args a;
  if (!get_args(env, info, "im2colGemm", 29, argv, &a)) return NULL;
  Grid g = arg_grid(&a, 0);
  Floats image = arg_floats(&a, 13, "image");
  int64_t io = arg_int(&a, 14, "imageOffset", 0, MAX_OFFSET);
  bool ta = arg_bool(&a, 15, "transA"), tb = arg_bool(&a, 16, "transB");
  int64_t m = arg_int(&a, 17, "m", 0, MAX_DIM), n = arg_int(&a, 18, "n", 0, MAX_DIM), k = arg_int(&a, 19, "k", 0, MAX_DIM);
  double alpha = arg_number(&a, 20, "alpha");
  Floats fa = arg_floats(&a, 21, "a");
  int64_t ao = arg_int(&a, 22, "aOffset", 0, MAX_OFFSET), lda = arg_int(&a, 23, "lda", 0, MAX_DIM);
  double beta = arg_number(&a, 24, "beta");
  Floats fc = arg_floats(&a, 25, "c");
  int64_t co = arg_int(&a, 26, "cOffset", 0, MAX_OFFSET), ldc = arg_int(&a, 27, "ldc", 0, MAX_DIM);
  Floats columns = arg_floats(&a, 28, "columns");
  same_kind(&a, &fa, image.type, "a");
  same_kind(&a, &fc, image.type, "c");
  same_kind(&a, &columns, image.type, "columns");
  if (!a.failed && (tb ? (n != g.rows || k != g.plane) : (k != g.rows || n != g.plane)))
    throw_range(&a, "k x n", "must be the grid's columns (or their transpose)");
  check_block(&a, &fa, "a", ao, ta ? k : m, ta ? m : k, lda);
  check_block(&a, &fc, "c", co, m, n, ldc);
  check_run(&a, &image, "image", io, g.image);
  check_run(&a, &columns, "columns", 0, g.rows * g.plane);
  if (a.failed) return NULL;
  const bool multiplies = m != 0 && n != 0 && k != 0 && alpha != 0;
  if (image.type == napi_float32_array) {
    if (multiplies) im2col_f32(&g, AT(image, io), columns.data);
    gemm_f32(ta, tb, m, n, k, alpha, AT(fa, ao), lda, columns.data, g.plane, beta, AT(fc, co), ldc);
  } else {
    if (multiplies) im2col_f64(&g, AT(image, io), columns.data);
    gemm_f64(ta, tb, m, n, k, alpha, AT(fa, ao), lda, columns.data, g.plane, beta, AT(fc, co), ldc);
  }
  return NULL;
}

/* { config, core, threads }: what the library says of itself, for logs and metrics. */
static napi_value blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, blas.get_config(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "config", v);
  napi_create_string_utf8(env, blas.get_corename(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "core", v);
  napi_create_int32(env, blas.get_num_threads(), &v);
  napi_set_named_property(env, out, "threads", v);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  pthread_once(&blas_once, open_blas);
  if (blas.sgemm == NULL) {
    napi_throw_error(env, NULL, blas.error);
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dgemm", NULL, dgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"im2col", NULL, im2col, NULL, NULL, NULL, napi_enumerable, NULL},
      {"col2im", NULL, col2im, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemmCol2im", NULL, gemm_col2im, NULL, NULL, NULL, napi_enumerable, NULL},
      {"im2colGemm", NULL, im2col_gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blasInfo", NULL, blas_info, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
