/** `loraConfig.targetModules` (Hugging Face PEFT's names) to the llama.cpp tensor-name parts the filter matches. */
export const TARGET_MODULES: Readonly<Record<string, string>> = {
  q_proj: 'attn_q.weight',
  k_proj: 'attn_k.weight',
  v_proj: 'attn_v.weight',
  o_proj: 'attn_output.weight',
  gate_proj: 'ffn_gate.weight',
  up_proj: 'ffn_up.weight',
  down_proj: 'ffn_down.weight',
}
