import { Type, type Static } from '@sinclair/typebox'

const int = (description: string) => Type.Optional(Type.Integer({ minimum: 1, description }))

/** The seed's hyperParams table (with its defaults), plus `evalSplit` (ours). */
export const TrainingHyperParamsSchema = Type.Object(
  {
    batchSize: int('Batch size (default 4). llama.cpp takes one optimizer step per window, so other values only earn a warning.'),
    learningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "AdamW's peak learning rate (default 2e-4), decayed linearly towards 0 over every step." })),
    epochs: int('Passes over the dataset (default 3).'),
    maxSeqLength: Type.Optional(Type.Integer({ minimum: 256, maximum: 32768, multipleOf: 256, description: 'The training window in tokens, a multiple of 256, at most 32768 (default 2048).' })),
    loraRank: int("The adapter's rank when loraConfig.r is absent (default 64)."),
    loraAlpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'LoRA alpha when loraConfig.loraAlpha is absent (default 16).' })),
    loraDropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Not applied (the adapter is extracted after training): a warning.' })),
    saveSteps: int('A checkpoint (outputDir/checkpoint.gguf) every this many steps (default 100).'),
    evalSteps: int('With evalSplit: the held-out windows are evaluated every this many steps and at each epoch end (default 100).'),
    evalSplit: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Ours: the fraction of windows (the last ones) held out for the eval loss (default 0).' })),
  },
  { additionalProperties: false },
)

/** The seed's loraConfig table. */
export const TrainingLoraConfigSchema = Type.Object(
  {
    r: int("The adapter's rank: each trained tensor's change is compressed to it by truncated SVD."),
    loraAlpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'LoRA alpha: the adapter is scaled so that alpha / r times B·A is the change.' })),
    loraDropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Not applied: a warning.' })),
    targetModules: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, description: 'q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (default: every weight llama.cpp trains).' }),
    ),
    bias: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('all'), Type.Literal('lora_only')], { description: "Anything but 'none' earns a warning: an adapter GGUF holds no biases." })),
  },
  { additionalProperties: false },
)

export const TrainingStartBodySchema = Type.Object(
  {
    baseModel: Type.String({ minLength: 1, description: 'A served model id (`GET /api/v1/models`), or the path of a GGUF inside an allowed data or output folder (a checkpoint). Weights other than F32 are dequantized to F32 for training.' }),
    outputDir: Type.String({ minLength: 1, description: "Inside an allowed output folder: checkpoint.gguf, model.gguf and adapter.gguf go here; its last part is the adapter's name at inference." }),
    datasetPath: Type.Optional(Type.String({ minLength: 1, description: 'A JSONL or JSON file of {"text"}, {"prompt","completion"} or {"messages"} records, or plain text, inside an allowed data folder.' })),
    dataset: Type.Optional(
      Type.Union([Type.Object({ text: Type.String({ minLength: 1 }) }, { additionalProperties: false }), Type.Object({ windows: Type.Array(Type.Array(Type.Integer())) }, { additionalProperties: false })], {
        description: 'Ours, instead of datasetPath: inline text, or windows of maxSeqLength + 1 token ids.',
      }),
    ),
    hyperParams: Type.Optional(TrainingHyperParamsSchema),
    loraConfig: Type.Optional(TrainingLoraConfigSchema),
    threads: Type.Optional(Type.Integer({ minimum: 1, description: "Ours: the training process's CPU threads (default: the server's --training-threads)." })),
  },
  { additionalProperties: false, description: 'A training job (POST /api/v1/training/start).' },
)

export type TrainingStartBody = Static<typeof TrainingStartBodySchema>
