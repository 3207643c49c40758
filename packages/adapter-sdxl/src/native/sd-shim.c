// A flat C face for stable-diffusion.cpp's two large parameter structs (sd_ctx_params_t, 280 bytes, and
// sd_img_gen_params_t, 544, nested, with bools and int64), which bun:ffi cannot describe: they live on
// the C heap, made with the library's own init functions, and are filled through setters, so no struct
// offset is written by hand. Compiled at load time by bun:ffi's cc against the header of the build the
// library came from; the library's functions come in as addresses from the dlopen'ed library.
#include <stdio.h>
#include <stdlib.h>
#include "stable-diffusion.h"

typedef void (*ctx_params_init_fn)(sd_ctx_params_t *);
typedef sd_ctx_t * (*new_ctx_fn)(const sd_ctx_params_t *);
typedef void (*gen_params_init_fn)(sd_img_gen_params_t *);
typedef bool (*generate_fn)(sd_ctx_t *, const sd_img_gen_params_t *, sd_image_t **, int *);
typedef void (*log_set_fn)(sd_log_cb_t, void *);
typedef void (*progress_set_fn)(sd_progress_cb_t, void *);

static const char * or_empty(const char * text) { return text ? text : ""; }

// ---- context parameters ------------------------------------------------------------------------

void * cy_sd_ctx_params_new(void * init) {
  sd_ctx_params_t * params = calloc(1, sizeof(sd_ctx_params_t));
  if (params) ((ctx_params_init_fn)init)(params);
  return params;
}

void cy_sd_ctx_params_free(void * params) { free(params); }

// NULL leaves a component out; the strings must live until new_sd_ctx returns.
void cy_sd_ctx_set_paths(void * p, const char * model, const char * clip_l, const char * clip_g, const char * diffusion_model,
                         const char * vae, const char * taesd) {
  sd_ctx_params_t * params = p;
  params->model_path = or_empty(model);
  params->clip_l_path = or_empty(clip_l);
  params->clip_g_path = or_empty(clip_g);
  params->diffusion_model_path = or_empty(diffusion_model);
  params->vae_path = or_empty(vae);
  params->taesd_path = or_empty(taesd);
}

void cy_sd_ctx_set_options(void * p, int32_t n_threads, int32_t flash_attn, int32_t eager_load, int32_t tae_preview_only) {
  sd_ctx_params_t * params = p;
  params->n_threads = n_threads;
  params->flash_attn = flash_attn != 0;
  params->diffusion_flash_attn = flash_attn != 0;
  params->eager_load = eager_load != 0;
  params->tae_preview_only = tae_preview_only != 0;
}

// Backend assignment specs, as sd-cli builds them ("te=cpu,vae=cpu"; params "*=cpu"); NULL: the default.
void cy_sd_ctx_set_backends(void * p, const char * backend, const char * params_backend) {
  sd_ctx_params_t * params = p;
  params->backend = backend;
  params->params_backend = params_backend;
}

void * cy_sd_new_ctx(void * new_ctx, void * params) { return ((new_ctx_fn)new_ctx)((const sd_ctx_params_t *)params); }

// ---- generation parameters ---------------------------------------------------------------------

// The parameters plus what they point at that the shim owns (the LoRA array, the one reference image).
typedef struct {
  sd_img_gen_params_t params;
  sd_lora_t * loras;
  sd_image_t ref_image;
} cy_gen_t;

void * cy_sd_gen_params_new(void * init) {
  cy_gen_t * gen = calloc(1, sizeof(cy_gen_t));
  if (gen) ((gen_params_init_fn)init)(&gen->params);
  return gen;
}

void cy_sd_gen_params_free(void * g) {
  cy_gen_t * gen = g;
  if (!gen) return;
  free(gen->loras);
  free(gen);
}

void cy_sd_gen_set_prompts(void * g, const char * prompt, const char * negative_prompt, int32_t clip_skip) {
  cy_gen_t * gen = g;
  gen->params.prompt = or_empty(prompt);
  gen->params.negative_prompt = or_empty(negative_prompt);
  gen->params.clip_skip = clip_skip;
}

void cy_sd_gen_set_size(void * g, int32_t width, int32_t height, int32_t batch_count, int64_t seed) {
  cy_gen_t * gen = g;
  gen->params.width = width;
  gen->params.height = height;
  gen->params.batch_count = batch_count;
  gen->params.seed = seed;
}

// sample_method / scheduler: values of str_to_sample_method / str_to_scheduler (their COUNT: the model's default).
void cy_sd_gen_set_sampling(void * g, int32_t sample_method, int32_t scheduler, int32_t steps, float cfg_scale, float img_cfg_scale,
                            float strength) {
  cy_gen_t * gen = g;
  gen->params.sample_params.sample_method = (enum sample_method_t)sample_method;
  gen->params.sample_params.scheduler = (enum scheduler_t)scheduler;
  gen->params.sample_params.sample_steps = steps;
  gen->params.sample_params.guidance.txt_cfg = cfg_scale;
  if (img_cfg_scale >= 0) gen->params.sample_params.guidance.img_cfg = img_cfg_scale;
  gen->params.strength = strength;
}

static sd_image_t image(uint32_t width, uint32_t height, uint32_t channels, uint8_t * data) {
  sd_image_t result = {width, height, channels, data};
  return result;
}

// The pixels (row-major, HWC) must live until generate returns.
void cy_sd_gen_set_init_image(void * g, int32_t width, int32_t height, int32_t channels, uint8_t * data) {
  ((cy_gen_t *)g)->params.init_image = image(width, height, channels, data);
}

// One channel, 255 = repaint.
void cy_sd_gen_set_mask(void * g, int32_t width, int32_t height, uint8_t * data) {
  ((cy_gen_t *)g)->params.mask_image = image(width, height, 1, data);
}

void cy_sd_gen_set_ref_image(void * g, int32_t width, int32_t height, int32_t channels, uint8_t * data) {
  cy_gen_t * gen = g;
  gen->ref_image = image(width, height, channels, data);
  gen->params.ref_images = &gen->ref_image;
  gen->params.ref_images_count = 1;
}

int32_t cy_sd_gen_set_lora_count(void * g, int32_t count) {
  cy_gen_t * gen = g;
  free(gen->loras);
  gen->loras = count > 0 ? calloc(count, sizeof(sd_lora_t)) : NULL;
  if (count > 0 && !gen->loras) return 0;
  gen->params.loras = gen->loras;
  gen->params.lora_count = count > 0 ? count : 0;
  return 1;
}

void cy_sd_gen_set_lora(void * g, int32_t index, const char * path, float multiplier) {
  cy_gen_t * gen = g;
  gen->loras[index].is_high_noise = false;
  gen->loras[index].multiplier = multiplier;
  gen->loras[index].path = path;
}

void cy_sd_gen_set_vae_tiling(void * g, int32_t enabled) { ((cy_gen_t *)g)->params.vae_tiling_params.enabled = enabled != 0; }

// Runs generate_image; the images array goes to *out (free it with free_sd_images). Returns the image
// count, or -1 when the library failed.
int32_t cy_sd_generate(void * generate, void * ctx, void * g, sd_image_t ** out) {
  int count = 0;
  *out = NULL;
  bool ok = ((generate_fn)generate)((sd_ctx_t *)ctx, &((cy_gen_t *)g)->params, out, &count);
  return ok ? count : -1;
}

// ---- images ------------------------------------------------------------------------------------

// Image `index` of an array: its size into out[0..2] (width, height, channels); returns its pixels.
uint8_t * cy_sd_image_at(sd_image_t * images, int32_t index, uint32_t * out) {
  sd_image_t * picked = &images[index];
  out[0] = picked->width;
  out[1] = picked->height;
  out[2] = picked->channel;
  return picked->data;
}

// ---- logs ---------------------------------------------------------------------------------------

// In C, not a JSCallback: the model loader logs from its own threads, where no JS may run. Warnings and
// errors go to stderr (the server's log of the engine); the rest is dropped unless `verbose`.
static int cy_verbose = 0;

static void cy_log(enum sd_log_level_t level, const char * text, void * data) {
  (void)data;
  if (cy_verbose || level >= SD_LOG_WARN) fputs(text, stderr);
}

void cy_sd_set_logs(void * log_set, int32_t verbose) {
  cy_verbose = verbose;
  ((log_set_fn)log_set)(cy_log, NULL);
}

// With no progress callback the library draws its own bar on stdout (tensor loading at every model load):
// this one says nothing. JS reports progress only while it generates, with a callback of its own.
static void cy_no_progress(int step, int steps, float time, void * data) {
  (void)step;
  (void)steps;
  (void)time;
  (void)data;
}

void cy_sd_quiet_progress(void * progress_set) { ((progress_set_fn)progress_set)(cy_no_progress, NULL); }
