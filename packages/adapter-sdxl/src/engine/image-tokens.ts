/**
 * The output tokens an image counts as in `usage`: one per 16×16 patch (a 1024×1024 image is 4096, about
 * what OpenAI's GPT image models report for their high quality). A stable-diffusion model has no output
 * tokens of its own; this makes the figure comparable, and proportional to the work.
 */
export function imageTokens(width: number, height: number): number {
  return Math.ceil(width / 16) * Math.ceil(height / 16)
}
