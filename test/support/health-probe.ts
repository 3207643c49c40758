/** `/health` asked `count` times in a row: how long each answer took, and the most requests it saw active. */
export async function probeHealth(url: string, count = 10): Promise<{ times: number[]; active: number }> {
  const times: number[] = []
  let active = 0
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    const health = (await (await fetch(`${url}/health`)).json()) as { requests: { active: number } }
    times.push(performance.now() - started)
    active = Math.max(active, health.requests.active)
  }
  return { times, active }
}
