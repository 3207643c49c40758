import type { ToolCallConstraint } from '@cy/core'
import { gbnfLiteral } from './grammar-text.ts'
import { GrammarBuilder } from './json-schema-grammar.ts'

/** A grammar for the sampler, lazy when it has triggers. */
export interface SamplerGrammar {
  grammar: string
  /** Lazy: the grammar starts where one of these patterns matches the output (llama.cpp's trigger patterns). */
  triggers?: string[]
}

/** Escapes text for a pattern matched by std::regex (ECMAScript). */
const regexText = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/**
 * The grammar of the bridge's calls: `open`, `{"name": "<tool>", "arguments": <its schema>}`, `close`,
 * one call or several a line apart; after the last, the answer ends. Forced calls are the whole answer;
 * otherwise the grammar is lazy and starts at the first `open`, so text before it is free. A tool whose
 * schema the grammar cannot express gets any JSON object (the gateway validates the arguments after).
 */
export function toolCallGrammar(constraint: ToolCallConstraint): SamplerGrammar {
  const builder = new GrammarBuilder('tools')
  const tools = constraint.tools.map((tool) => {
    const schema = tool.parameters ?? { type: 'object' }
    const built = builder.attempt(() => builder.schema(schema, schema, tool.name))
    const args = typeof built === 'string' ? built : 'object'
    return builder.define(`${tool.name}-call`, `${gbnfLiteral(JSON.stringify(tool.name))} ", " ${gbnfLiteral('"arguments"')} ": " ${args}`)
  })
  const call = builder.define(
    'call',
    `${gbnfLiteral(constraint.open)} "\\n" ${gbnfLiteral('{"name": ')} (${tools.join(' | ')}) "}" "\\n" ${gbnfLiteral(constraint.close)}`,
  )
  const root = constraint.parallel ? `${call} ("\\n" ${call})*` : call
  return {
    grammar: builder.grammar(root),
    ...(constraint.force ? {} : { triggers: [`[\\s\\S]*?(${regexText(constraint.open)})[\\s\\S]*`] }),
  }
}
