// The Kubernetes examples in deploy/kubernetes: the probes on /ready and /health, and a cluster whose master
// and workers find each other. Each pod's command line (the image's ENTRYPOINT flags, then the pod's args,
// with its env) goes through the server's own flag parser, as the container would run it.
import { parseCliOptions } from '@cy/server'
import { INTERNAL_PORT_OFFSET } from '@cy/cluster'
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ROOT, runtimeEnv, serverFlags } from './image-facts.ts'

interface Container {
  args?: string[]
  ports?: { name: string; containerPort: number }[]
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[]
  readinessProbe?: Record<string, { path?: string; port: string | number }>
  livenessProbe?: Record<string, { path?: string; port: string | number }>
  securityContext?: { allowPrivilegeEscalation?: boolean }
}
interface K8sObject {
  kind: string
  metadata: { name: string }
  spec: {
    ports?: { name: string; port: number }[]
    template?: { spec: { containers: Container[]; securityContext?: { runAsNonRoot?: boolean; runAsUser?: number } } }
  }
}

const load = (file: string) => parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'kubernetes', file), 'utf8')).map((doc) => doc.toJS() as K8sObject)
const find = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name)
  if (!found) throw new Error(`no ${kind} ${name}`)
  return found
}
const ports = (service: K8sObject) => Object.fromEntries(service.spec.ports!.map((port) => [port.name, port.port]))
const podOf = (deployment: K8sObject) => deployment.spec.template!.spec
const portNumber = (container: Container, port: string | number) => (typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort)

/** The server's options as the pod runs it: the image's ENV and flags, then the pod's env (placeholders for secrets and fields) and args. */
function podOptions(container: Container) {
  const env: Record<string, string> = { ...runtimeEnv }
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? `<${variable.name}>`
  const args = (container.args ?? []).map((arg) => arg.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? `$(${name})`))
  return parseCliOptions([...serverFlags, ...args], env)!
}

function expectProbesAndHardening(deployment: K8sObject) {
  const pod = podOf(deployment)
  const [container] = pod.containers
  expect(pod.securityContext?.runAsNonRoot).toBe(true)
  expect(pod.securityContext?.runAsUser).toBeGreaterThan(0)
  expect(container!.securityContext?.allowPrivilegeEscalation).toBe(false)
  expect(container!.readinessProbe?.httpGet?.path).toBe('/ready')
  expect(container!.livenessProbe?.httpGet?.path).toBe('/health')
  expect(portNumber(container!, container!.readinessProbe!.httpGet!.port)).toBe(Number(runtimeEnv.PORT))
  expect(portNumber(container!, container!.livenessProbe!.httpGet!.port)).toBe(Number(runtimeEnv.PORT))
  return container!
}

describe('deploy/kubernetes/cy.yaml', () => {
  const objects = load('cy.yaml')

  test('one server: ready on /ready, alive on /health, its key from a Secret, on every interface', () => {
    const container = expectProbesAndHardening(find(objects, 'Deployment', 'cy'))
    const key = container.env?.find((variable) => variable.name === 'CY_API_KEY')?.valueFrom?.secretKeyRef
    expect(find(objects, 'Secret', key!.name)).toBeDefined()
    const options = podOptions(container)
    expect(options.host).toBe('0.0.0.0')
    expect(options.apiKey).toBe('<CY_API_KEY>')
    expect(options.cluster).toBeUndefined()
    expect(find(objects, 'Service', 'cy').spec.ports?.[0]?.port).toBe(8080)
  })
})

describe('deploy/kubernetes/cluster.yaml', () => {
  const objects = load('cluster.yaml')
  const master = podOf(find(objects, 'Deployment', 'cy-master')).containers[0]!
  const worker = podOf(find(objects, 'Deployment', 'cy-worker')).containers[0]!
  const service = find(objects, 'Service', 'cy-master')

  test('the master: probes on /ready and /health, and a Service with its API port and its cluster port (+1000)', () => {
    expectProbesAndHardening(find(objects, 'Deployment', 'cy-master'))
    const options = podOptions(master)
    expect(options.cluster?.mode).toBe('master')
    expect(options.cluster?.secret).toBe('<CY_CLUSTER_SECRET>')
    const { http, cluster } = ports(service)
    expect(http).toBe(Number(runtimeEnv.PORT))
    expect(cluster).toBe(Number(runtimeEnv.PORT) + INTERNAL_PORT_OFFSET)
    expect(master.ports?.find((port) => port.name === 'cluster')?.containerPort).toBe(cluster!)
  })

  test('the workers: join the master Service, advertise their pod IP (downward API), share its secret', () => {
    const options = podOptions(worker)
    expect(options.cluster?.mode).toBe('worker')
    expect(options.cluster?.masterHost).toBe(service.metadata.name)
    expect([ports(service).http, ports(service).cluster]).toContain(options.cluster!.masterPort)
    expect(options.cluster?.workerHost).toBe('<POD_IP>')
    expect(worker.env?.find((variable) => variable.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP')
    expect(worker.ports?.find((port) => port.name === 'worker')?.containerPort).toBe(options.cluster!.workerPort)
    const secretOf = (container: Container) => container.env?.find((variable) => variable.name === 'CY_CLUSTER_SECRET')?.valueFrom?.secretKeyRef
    expect(secretOf(worker)).toEqual(secretOf(master)!)
    expect(find(objects, 'Secret', secretOf(worker)!.name)).toBeDefined()
    // A worker serves no HTTP API: its probes are on the port the master calls.
    expect(worker.readinessProbe?.tcpSocket?.port).toBe('worker')
  })
})
