// Training through llama.cpp's C API: the calls that take structs by value (model and context params,
// llama_opt_params) and the C callbacks llama.cpp and ggml-opt call back into (param filter, optimizer
// params, epoch progress, abort). Compiled by bun:ffi's cc against the vendored headers; the engine's
// functions arrive as addresses, so nothing is linked.
#include <stdlib.h>
#include <string.h>
#include "llama.h"
#include "ggml-opt.h"

typedef struct llama_model_params (*model_defaults_fn)(void);
typedef struct llama_model * (*model_load_fn)(const char *, struct llama_model_params);
typedef struct llama_context_params (*context_defaults_fn)(void);
typedef struct llama_context * (*context_init_fn)(struct llama_model *, struct llama_context_params);
typedef void (*opt_init_fn)(struct llama_context *, struct llama_model *, struct llama_opt_params);
typedef void (*opt_epoch_fn)(struct llama_context *, ggml_opt_dataset_t, ggml_opt_result_t, ggml_opt_result_t, int64_t,
                             ggml_opt_epoch_callback, ggml_opt_epoch_callback);
typedef struct ggml_opt_optimizer_params (*default_opt_pars_fn)(void *);
typedef const char * (*get_name_fn)(const struct ggml_tensor *);
typedef size_t (*nbytes_fn)(const struct ggml_tensor *);
typedef void (*tensor_get_fn)(const struct ggml_tensor *, void *, size_t, size_t);
typedef void (*result_loss_fn)(ggml_opt_result_t, double *, double *);
typedef struct llama_model_quantize_params (*quantize_defaults_fn)(void);
typedef uint32_t (*quantize_fn)(const char *, const char *, const struct llama_model_quantize_params *);
// The JS side's per-batch callback (a bun:ffi JSCallback): false cancels the epoch.
typedef bool (*batch_fn)(bool train, int32_t step, int32_t steps, double loss);

#define MAX_TENSORS 4096

typedef struct {
  // Tensor names containing any of these are trained (none: every tensor llama.cpp offers).
  char ** patterns;
  int32_t n_patterns;
  // Every tensor llama.cpp offered the filter, and whether it was chosen.
  const struct ggml_tensor * tensors[MAX_TENSORS];
  uint8_t chosen[MAX_TENSORS];
  int32_t n_tensors;
  // AdamW's parameters for the next step, set from JS between batches.
  struct ggml_opt_optimizer_params opt;
  // Epoch progress.
  batch_fn on_batch;
  volatile int32_t cancelled;
  double done_loss[2];
  get_name_fn get_name;
  nbytes_fn nbytes;
  tensor_get_fn tensor_get;
  result_loss_fn result_loss;
} train_state;

void * cy_train_state_new(void * default_opt_pars, void * get_name, void * nbytes, void * tensor_get, void * result_loss) {
  train_state * s = (train_state *)calloc(1, sizeof(train_state));
  s->opt = ((default_opt_pars_fn)default_opt_pars)(NULL);
  s->get_name = (get_name_fn)get_name;
  s->nbytes = (nbytes_fn)nbytes;
  s->tensor_get = (tensor_get_fn)tensor_get;
  s->result_loss = (result_loss_fn)result_loss;
  return s;
}

void cy_train_state_free(void * state) {
  train_state * s = (train_state *)state;
  for (int32_t i = 0; i < s->n_patterns; i++) free(s->patterns[i]);
  free(s->patterns);
  free(s);
}

void cy_train_add_pattern(void * state, const char * pattern) {
  train_state * s = (train_state *)state;
  s->patterns = (char **)realloc(s->patterns, sizeof(char *) * (size_t)(s->n_patterns + 1));
  // Copied by hand: strdup is POSIX, not declared by every compiler's string.h (bun:ffi's TinyCC among them).
  const size_t length = strlen(pattern) + 1;
  char * copy = (char *)malloc(length);
  memcpy(copy, pattern, length);
  s->patterns[s->n_patterns++] = copy;
}

void cy_train_set_optimizer(void * state, float lr, float beta1, float beta2, float eps, float wd) {
  train_state * s = (train_state *)state;
  s->opt.adamw.alpha = lr;
  s->opt.adamw.beta1 = beta1;
  s->opt.adamw.beta2 = beta2;
  s->opt.adamw.eps = eps;
  s->opt.adamw.wd = wd;
  s->opt.sgd.alpha = lr;
  s->opt.sgd.wd = wd;
}

// llama.cpp offers only F32 tensors (it skips the rest silently), minus token_embd and rope_freqs.
static bool cy_param_filter(const struct ggml_tensor * tensor, void * userdata) {
  train_state * s = (train_state *)userdata;
  const char * name = s->get_name(tensor);
  bool chosen = s->n_patterns == 0;
  for (int32_t i = 0; !chosen && i < s->n_patterns; i++) chosen = strstr(name, s->patterns[i]) != NULL;
  if (s->n_tensors < MAX_TENSORS) {
    s->tensors[s->n_tensors] = tensor;
    s->chosen[s->n_tensors++] = chosen;
  }
  return chosen;
}

static struct ggml_opt_optimizer_params cy_opt_pars(void * userdata) {
  return ((train_state *)userdata)->opt;
}

static bool cy_abort(void * userdata) {
  return ((train_state *)userdata)->cancelled != 0;
}

void * cy_train_model_load(void * defaults, void * load, const char * path) {
  struct llama_model_params params = ((model_defaults_fn)defaults)();
  params.n_gpu_layers = 0;
  // Weights in plain, writable CPU buffers: no mmap (read-only pages), no repacked layouts.
  params.load_mode = LLAMA_LOAD_MODE_NONE;
  params.use_extra_bufts = false;
  return ((model_load_fn)load)(path, params);
}

// n_ctx = n_batch = n_ubatch = the window: one optimizer step per window. F32 KV cache: OUT_PROD has no
// F16 backward. The abort callback lets a cancelled epoch skip the rest of its graphs.
void * cy_train_context_new(void * defaults, void * init, void * model, void * state, uint32_t window, int32_t n_threads) {
  struct llama_context_params params = ((context_defaults_fn)defaults)();
  params.n_ctx = window;
  params.n_batch = window;
  params.n_ubatch = window;
  params.n_seq_max = 1;
  if (n_threads > 0) {
    params.n_threads = n_threads;
    params.n_threads_batch = n_threads;
  }
  params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  params.type_k = GGML_TYPE_F32;
  params.type_v = GGML_TYPE_F32;
  params.abort_callback = cy_abort;
  params.abort_callback_data = state;
  params.no_perf = 1;
  return ((context_init_fn)init)((struct llama_model *)model, params);
}

void cy_train_opt_init(void * opt_init, void * ctx, void * model, void * state) {
  struct llama_opt_params params;
  params.n_ctx_train = 0;
  params.param_filter = cy_param_filter;
  params.param_filter_ud = state;
  params.get_opt_pars = cy_opt_pars;
  params.get_opt_pars_ud = state;
  params.optimizer_type = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
  ((opt_init_fn)opt_init)((struct llama_context *)ctx, (struct llama_model *)model, params);
}

// ggml_opt_epoch_callback carries no userdata: the state of the epoch running on this thread.
static train_state * current;

static void cy_epoch_progress(bool train, ggml_opt_context_t opt_ctx, ggml_opt_dataset_t dataset, ggml_opt_result_t result,
                              int64_t ibatch, int64_t ibatch_max, int64_t t_start_us) {
  (void)opt_ctx; (void)dataset; (void)t_start_us;
  train_state * s = current;
  if (!s || s->cancelled) return;
  // The result holds the mean over this phase's batches so far (reset each epoch): this batch's loss is the difference.
  double mean = 0;
  s->result_loss(result, &mean, NULL);
  const double total = mean * (double)ibatch;
  const double loss = total - s->done_loss[train ? 0 : 1];
  s->done_loss[train ? 0 : 1] = total;
  if (s->on_batch && !s->on_batch(train, (int32_t)ibatch, (int32_t)ibatch_max, loss)) s->cancelled = 1;
}

// One pass over the dataset: the first idata_split windows train, the rest evaluate. Returns 1 when cancelled.
int32_t cy_train_epoch(void * opt_epoch, void * ctx, void * state, void * dataset, void * result_train, void * result_eval,
                       int64_t idata_split, void * on_batch) {
  train_state * s = (train_state *)state;
  s->on_batch = (batch_fn)on_batch;
  s->cancelled = 0;
  s->done_loss[0] = s->done_loss[1] = 0;
  current = s;
  ((opt_epoch_fn)opt_epoch)((struct llama_context *)ctx, (ggml_opt_dataset_t)dataset, (ggml_opt_result_t)result_train,
                            (ggml_opt_result_t)result_eval, idata_split, cy_epoch_progress, cy_epoch_progress);
  current = NULL;
  const int32_t cancelled = s->cancelled;
  s->cancelled = 0;
  s->on_batch = NULL;
  return cancelled;
}

int32_t cy_train_tensor_count(void * state) {
  return ((train_state *)state)->n_tensors;
}

const char * cy_train_tensor_name(void * state, int32_t i) {
  train_state * s = (train_state *)state;
  return s->get_name(s->tensors[i]);
}

int32_t cy_train_tensor_chosen(void * state, int32_t i) {
  return ((train_state *)state)->chosen[i];
}

// FNV-1a over a tensor's bytes, read through its backend: whether a weight changed, without copying it out.
uint64_t cy_train_tensor_digest(void * state, int32_t i) {
  train_state * s = (train_state *)state;
  const struct ggml_tensor * tensor = s->tensors[i];
  const size_t size = s->nbytes(tensor);
  uint8_t * bytes = (uint8_t *)malloc(size);
  s->tensor_get(tensor, bytes, 0, size);
  uint64_t hash = 1469598103934665603ULL;
  for (size_t k = 0; k < size; k++) hash = (hash ^ bytes[k]) * 1099511628211ULL;
  free(bytes);
  return hash;
}

// A model rewritten with every tensor in F32 (llama_model_quantize to LLAMA_FTYPE_ALL_F32: quantized and
// half-precision tensors dequantized, the metadata kept): what llama.cpp's optimizer trains. 0 on success.
uint32_t cy_train_dequantize(void * defaults, void * quantize, const char * input, const char * output, int32_t threads) {
  struct llama_model_quantize_params params = ((quantize_defaults_fn)defaults)();
  params.nthread = threads;
  params.ftype = LLAMA_FTYPE_ALL_F32;
  params.output_tensor_type = GGML_TYPE_F32;
  params.token_embedding_type = GGML_TYPE_F32;
  params.allow_requantize = true;
  params.quantize_output_tensor = true;
  params.pure = true;
  return ((quantize_fn)quantize)(input, output, &params);
}
