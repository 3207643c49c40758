// The calls of llama.cpp's C API that pass or return structs by value, which bun:ffi cannot express.
// Compiled at load time by bun:ffi's cc against the vendored headers of the pinned llama.cpp version;
// the llama.cpp functions themselves come in as pointers from the dlopen'ed library, so nothing is linked.
#include <stdio.h>
#include <stdlib.h>
#include "llama.h"

typedef struct llama_model_params (*model_defaults_fn)(void);
typedef struct llama_model * (*model_load_fn)(const char *, struct llama_model_params);
typedef struct llama_context_params (*context_defaults_fn)(void);
typedef struct llama_context * (*context_init_fn)(struct llama_model *, struct llama_context_params);
typedef int32_t (*decode_fn)(struct llama_context *, struct llama_batch);
typedef struct llama_sampler * (*chain_init_fn)(struct llama_sampler_chain_params);

void * cy_model_load(void * defaults, void * load, const char * path, int32_t n_gpu_layers, int32_t vocab_only) {
  struct llama_model_params params = ((model_defaults_fn)defaults)();
  params.n_gpu_layers = n_gpu_layers;
  params.vocab_only = vocab_only != 0;
  return ((model_load_fn)load)(path, params);
}

void * cy_context_new(void * defaults, void * init, void * model, uint32_t n_ctx, uint32_t n_batch, uint32_t n_seq_max,
                      int32_t n_threads, int32_t embeddings, int32_t pooling, int32_t flash_attn) {
  struct llama_context_params params = ((context_defaults_fn)defaults)();
  params.n_ctx = n_ctx;
  params.n_batch = n_batch;
  params.n_ubatch = n_batch;
  params.n_seq_max = n_seq_max;
  if (n_threads > 0) {
    params.n_threads = n_threads;
    params.n_threads_batch = n_threads;
  }
  params.embeddings = embeddings != 0;
  params.pooling_type = (enum llama_pooling_type)pooling;
  params.flash_attn_type = (enum llama_flash_attn_type)flash_attn;
  // One cache region per sequence, each of n_ctx / n_seq_max: a sequence can never crowd out another.
  params.kv_unified = 0;
  params.no_perf = 1;
  return ((context_init_fn)init)((struct llama_model *)model, params);
}

// One token per entry, each in one sequence: what continuous batching needs.
int32_t cy_decode(void * decode, void * ctx, int32_t n_tokens, int32_t * tokens, int32_t * positions, int32_t * seq_ids, int8_t * logits) {
  llama_seq_id ** seq_ptrs = (llama_seq_id **)malloc(sizeof(llama_seq_id *) * (size_t)n_tokens);
  int32_t * n_seq = (int32_t *)malloc(sizeof(int32_t) * (size_t)n_tokens);
  for (int32_t i = 0; i < n_tokens; i++) {
    seq_ptrs[i] = &seq_ids[i];
    n_seq[i] = 1;
  }
  struct llama_batch batch;
  batch.n_tokens = n_tokens;
  batch.token = tokens;
  batch.embd = NULL;
  batch.pos = positions;
  batch.n_seq_id = n_seq;
  batch.seq_id = seq_ptrs;
  batch.logits = logits;
  int32_t result = ((decode_fn)decode)((struct llama_context *)ctx, batch);
  free(seq_ptrs);
  free(n_seq);
  return result;
}

void * cy_sampler_chain_new(void * init) {
  struct llama_sampler_chain_params params;
  params.no_perf = 1;
  return ((chain_init_fn)init)(params);
}

int32_t cy_struct_sizes(int32_t which) {
  switch (which) {
    case 0: return (int32_t)sizeof(struct llama_model_params);
    case 1: return (int32_t)sizeof(struct llama_context_params);
    default: return (int32_t)sizeof(struct llama_batch);
  }
}

// Engine logs go to stderr only from warnings up, so a server's output is not flooded.
static void cy_log(enum ggml_log_level level, const char * text, void * user_data) {
  (void)user_data;
  if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

typedef void (*log_set_fn)(ggml_log_callback, void *);

void cy_quiet_logs(void * log_set) {
  ((log_set_fn)log_set)(cy_log, NULL);
}

typedef void (*threadpool_params_init_fn)(struct ggml_threadpool_params *, int);
typedef struct ggml_threadpool * (*threadpool_new_fn)(struct ggml_threadpool_params *);
typedef void (*threadpool_free_fn)(struct ggml_threadpool *);

// A threadpool that lives as long as its context (without one, ggml starts and joins its threads on every
// llama_decode). poll 0: between decodes its threads sleep on a condition variable instead of spinning,
// so they take no CPU from the Worker's own work or from other processes.
void * cy_threadpool_new(void * params_init, void * threadpool_new, int32_t n_threads, int32_t poll) {
  struct ggml_threadpool_params params;
  ((threadpool_params_init_fn)params_init)(&params, n_threads);
  params.poll = (uint32_t)poll;
  return ((threadpool_new_fn)threadpool_new)(&params);
}

void cy_threadpool_free(void * threadpool_free, void * threadpool) {
  ((threadpool_free_fn)threadpool_free)((struct ggml_threadpool *)threadpool);
}
