// The calls of libmtmd's C API that pass or return structs by value, which bun:ffi cannot express.
// Compiled at load time by bun:ffi's cc against the vendored headers of the pinned llama.cpp version; the
// libmtmd functions come in as pointers from the dlopen'ed library, so nothing is linked.
#include <stdio.h>
#include "mtmd.h"
#include "mtmd-helper.h"

typedef struct mtmd_context_params (*params_default_fn)(void);
typedef mtmd_context * (*init_fn)(const char *, const struct llama_model *, const struct mtmd_context_params);
typedef struct mtmd_helper_init_opt (*opt_default_fn)(void);
typedef struct mtmd_helper_bitmap_wrapper (*bitmap_from_buf_fn)(const mtmd_context *, const unsigned char *, size_t, bool, struct mtmd_helper_init_opt);
typedef int32_t (*tokenize_fn)(const mtmd_context *, mtmd_input_chunks *, const mtmd_input_text *, const mtmd_bitmap * const *, size_t);

void * cy_mtmd_init(void * defaults, void * init, const char * path, void * model, int32_t use_gpu, int32_t n_threads, const char * marker,
                    int32_t flash_attn) {
  struct mtmd_context_params params = ((params_default_fn)defaults)();
  params.use_gpu = use_gpu != 0;
  params.print_timings = false;
  if (n_threads > 0) params.n_threads = n_threads;
  params.media_marker = marker;
  params.flash_attn_type = (enum llama_flash_attn_type)flash_attn;
  // The warm-up encode at load (llama-server's default): it reserves the compute buffers for the largest
  // image and settles flash attention's auto choice, so no request pays for either.
  params.warmup = true;
  return ((init_fn)init)(path, (const struct llama_model *)model, params);
}

// Decodes an encoded image (PNG, JPEG, GIF, BMP: stb_image) into a bitmap whose id is its SHA-256.
void * cy_mtmd_bitmap_from_buf(void * opt_default, void * from_buf, void * ctx, const unsigned char * buf, size_t len) {
  struct mtmd_helper_init_opt opt = ((opt_default_fn)opt_default)();
  struct mtmd_helper_bitmap_wrapper wrapper = ((bitmap_from_buf_fn)from_buf)((const mtmd_context *)ctx, buf, len, false, opt);
  return wrapper.bitmap;
}

int32_t cy_mtmd_tokenize(void * tokenize, void * ctx, void * chunks, const char * text, size_t text_len, int32_t add_special,
                         int32_t parse_special, const mtmd_bitmap * const * bitmaps, size_t n_bitmaps) {
  mtmd_input_text input;
  input.text = text;
  input.text_len = text_len;
  input.add_special = add_special != 0;
  input.parse_special = parse_special != 0;
  return ((tokenize_fn)tokenize)((const mtmd_context *)ctx, (mtmd_input_chunks *)chunks, &input, bitmaps, n_bitmaps);
}

// As the text engine's logs: warnings and errors only, to stderr.
static void cy_mtmd_log(enum ggml_log_level level, const char * text, void * user_data) {
  (void)user_data;
  if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

typedef void (*log_set_fn)(ggml_log_callback, void *);

void cy_mtmd_quiet_logs(void * log_set) {
  ((log_set_fn)log_set)(cy_mtmd_log, NULL);
}
