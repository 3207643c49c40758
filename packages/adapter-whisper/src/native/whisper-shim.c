// The calls of whisper.cpp's C API that pass or return structs by value, which bun:ffi cannot express.
// Compiled at load time by bun:ffi's cc against the headers of the same whisper.cpp sources the library
// was built from; the whisper.cpp functions come in as pointers from the dlopen'ed library.
#include <stdio.h>
#include <stdlib.h>
#include "whisper.h"

typedef struct whisper_context_params (*context_defaults_fn)(void);
typedef struct whisper_context * (*init_fn)(const char *, struct whisper_context_params);
typedef struct whisper_full_params (*full_defaults_fn)(enum whisper_sampling_strategy);
typedef int (*full_fn)(struct whisper_context *, struct whisper_state *, struct whisper_full_params, const float *, int);
typedef whisper_token_data (*token_data_fn)(struct whisper_state *, int, int);
typedef void (*log_set_fn)(ggml_log_callback, void *);

void * cy_whisper_init(void * defaults, void * init, const char * path, int32_t use_gpu, int32_t flash_attn) {
  struct whisper_context_params params = ((context_defaults_fn)defaults)();
  params.use_gpu = use_gpu != 0;
  params.flash_attn = flash_attn != 0;
  return ((init_fn)init)(path, params);
}

// whisper.cpp polls this during encoding and decoding: a shared flag set by the main thread stops the work.
static bool cy_should_abort(void * flag) {
  return flag != NULL && *(volatile int32_t *)flag != 0;
}

int32_t cy_whisper_full(void * defaults, void * full, void * ctx, void * state, const float * samples, int32_t n_samples,
                        int32_t n_threads, int32_t translate, const char * language, const char * prompt, float temperature,
                        int32_t fallback, int32_t beam_size, int32_t token_timestamps, int32_t * abort_flag,
                        void * on_segment, void * on_segment_data) {
  struct whisper_full_params params = ((full_defaults_fn)defaults)(beam_size > 1 ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY);
  params.n_threads = n_threads;
  params.translate = translate != 0;
  params.language = language;
  params.detect_language = 0;
  params.initial_prompt = prompt;
  params.temperature = temperature;
  if (!fallback) params.temperature_inc = 0.0f;
  if (beam_size > 1) params.beam_search.beam_size = beam_size;
  params.token_timestamps = token_timestamps != 0;
  params.print_progress = 0;
  params.print_realtime = 0;
  params.print_timestamps = 0;
  params.abort_callback = cy_should_abort;
  params.abort_callback_user_data = abort_flag;
  params.new_segment_callback = (whisper_new_segment_callback)on_segment;
  params.new_segment_callback_user_data = on_segment_data;
  return ((full_fn)full)((struct whisper_context *)ctx, (struct whisper_state *)state, params, samples, n_samples);
}

// A token's probability and timestamps (centiseconds), written into out[0..3] as p, plog, t0, t1.
void cy_whisper_token_data(void * get, void * state, int32_t segment, int32_t token, double * out) {
  whisper_token_data data = ((token_data_fn)get)((struct whisper_state *)state, segment, token);
  out[0] = data.p;
  out[1] = data.plog;
  out[2] = (double)data.t0;
  out[3] = (double)data.t1;
}

static void cy_log(enum ggml_log_level level, const char * text, void * user_data) {
  (void)user_data;
  if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

void cy_whisper_quiet_logs(void * log_set) {
  ((log_set_fn)log_set)(cy_log, NULL);
}
