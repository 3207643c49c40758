// What the Dockerfile says, read through dockerfile-ast (the parser of VS Code's Docker support), for the
// container tests: its stages, the final stage's instructions, and the server command line it runs.
import { DockerfileParser, type From, type Instruction } from 'dockerfile-ast'
import { join } from 'node:path'

export const ROOT = join(import.meta.dir, '..', '..')
export const dockerfile = DockerfileParser.parse(await Bun.file(join(ROOT, 'Dockerfile')).text())

/** The ARGs declared before the first FROM, with their defaults: what FROM lines may use. */
export const globalArgs = Object.fromEntries(
  dockerfile.getInitialARGs().map((arg) => [arg.getProperty()?.getName() ?? '', arg.getProperty()?.getValue() ?? '']),
)

/** `${NAME}` and `$NAME` replaced by the ARG defaults. */
export const expand = (text: string, values: Record<string, string> = globalArgs) =>
  text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => values[braced ?? bare ?? ''] ?? '')

export interface Stage {
  from: From
  name: string | null
  instructions: Instruction[]
}

/** Each stage with the instructions from its FROM up to the next. */
export const stages: Stage[] = (() => {
  const all = dockerfile.getInstructions()
  const froms = dockerfile.getFROMs()
  return froms.map((from, i) => {
    const start = all.indexOf(from)
    const end = i + 1 < froms.length ? all.indexOf(froms[i + 1]!) : all.length
    return { from, name: from.getBuildStage(), instructions: all.slice(start + 1, end) }
  })
})()

export const runtime = stages.at(-1)!

/** What follows the keyword in each of a stage's instructions of that keyword, flags included. */
export const argsOf = (stage: Stage, keyword: string) =>
  stage.instructions.filter((instruction) => instruction.getKeyword() === keyword).map((instruction) => instruction.getTextContent().slice(keyword.length).trim())

/** The JSON (exec form) arguments of an instruction. */
export const jsonArgs = (instruction: Instruction): string[] => JSON.parse(instruction.getArgumentsContent() ?? '[]') as string[]

/** The final stage's ENV, name → value. */
export const runtimeEnv: Record<string, string> = Object.fromEntries(
  runtime.instructions
    .filter((instruction) => instruction.getKeyword() === 'ENV')
    .flatMap((instruction) => (instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties())
    .map((property) => [property.getName(), property.getValue() ?? '']),
)

const entrypoint = runtime.instructions.find((instruction) => instruction.getKeyword() === 'ENTRYPOINT')
/** ENTRYPOINT as a list (exec form). */
export const entrypointArgs: string[] = entrypoint ? jsonArgs(entrypoint) : []
/** The server's own flags in ENTRYPOINT: what comes after its main.ts. */
export const serverFlags = entrypointArgs.slice(entrypointArgs.indexOf('apps/server/src/main.ts') + 1)
