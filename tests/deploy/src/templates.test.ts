import { describe, expect, it } from 'vitest';
import { type Schema, type Values, block, containerPort, defaultValues, isObject, read, resolveRef, schema, template, templates, CHART } from './chart.js';
import { parse } from 'yaml';

const helpers = template('_helpers.tpl');

/** Every `.Values.a.b` path in a text (also `$.Values.a.b`). */
function valuesPaths(text: string): string[] {
  return [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) => m[1]!.slice(1));
}

function hasPath(values: Values, path: string): boolean {
  let node: unknown = values;
  for (const key of path.split('.')) {
    if (!isObject(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

function definition(name: string): Schema {
  const root = schema();
  return resolveRef(root, { $ref: `#/definitions/${name}` });
}

/** The Deployment template of an app, checked for the parts every Sibyl pod must have. */
function expectSibylPod(text: string): void {
  expect(text).toMatch(/^kind: Deployment$/m);
  expect(text).toContain('include "sibyl.podSpecCommon"');
  expect(text).toContain('include "sibyl.containerSecurityContext"');
  expect(text).toContain('include "sibyl.lifecycle"');
  expect(text).toContain('include "sibyl.commonEnv"');
  expect(text).toMatch(/- name: tmp\n\s+mountPath: \/tmp/);
  expect(text).toContain('include "sibyl.tmpVolume"');
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(block(text, probe), probe).toBeDefined();
}

function httpProbe(text: string, probe: string): { path: string; port: number } {
  const body = block(text, probe);
  expect(body, probe).toBeDefined();
  const path = /path: (\S+)/.exec(body!)?.[1];
  const portName = /port: (\S+)/.exec(body!)?.[1];
  expect(body).toMatch(/httpGet:/);
  const port = containerPort(text, portName!);
  expect(port, `container port named ${portName}`).toBeDefined();
  return { path: path!, port: port! };
}

describe('templates', () => {
  it('reference only values that values.yaml defines', () => {
    const values = defaultValues();
    const missing: string[] = [];
    for (const [name, text] of templates()) {
      for (const path of valuesPaths(text)) if (!hasPath(values, path)) missing.push(`${name}: .Values.${path}`);
    }
    expect(missing).toEqual([]);
    // The regex finds references at all: a guard against a test that checks nothing.
    expect(valuesPaths(template('gateway-deployment.yaml'))).toContain('gateway.resources');
  });

  it('reference only worker pool fields that the schema defines ($pool.x, get $pool "x")', () => {
    const fields = Object.keys(definition('workerPool').properties ?? {});
    const used = new Set<string>();
    for (const text of templates().values()) {
      for (const m of text.matchAll(/\$pool\.([A-Za-z_][A-Za-z0-9_]*)/g)) used.add(m[1]!);
      for (const m of text.matchAll(/get \$pool "([A-Za-z_][A-Za-z0-9_]*)"/g)) used.add(m[1]!);
    }
    expect([...used].filter((f) => !fields.includes(f))).toEqual([]);
    expect(used.has('modelCacheBytes')).toBe(true);
  });

  it('read optional worker pool fields with get, so a pool may leave them out', () => {
    const required = new Set(definition('workerPool').required ?? []);
    const unsafe: string[] = [];
    for (const [name, text] of templates()) {
      for (const m of text.matchAll(/\$pool\.([A-Za-z_][A-Za-z0-9_]*)/g)) if (!required.has(m[1]!)) unsafe.push(`${name}: $pool.${m[1]}`);
    }
    expect(unsafe).toEqual([]);
  });

  it('gateway: Deployment with v2 health probes on REST :8000, and a Service with REST, gRPC and metrics', () => {
    const text = template('gateway-deployment.yaml');
    expectSibylPod(text);
    expect(text).toContain('args: ["gateway"]');
    expect(httpProbe(text, 'readinessProbe')).toEqual({ path: '/v2/health/ready', port: 8000 });
    expect(httpProbe(text, 'livenessProbe')).toEqual({ path: '/v2/health/live', port: 8000 });
    expect(httpProbe(text, 'startupProbe')).toEqual({ path: '/v2/health/live', port: 8000 });
    expect(containerPort(text, 'grpc')).toBe(8001);
    expect(containerPort(text, 'metrics')).toBe(8002);
    expect(text).toMatch(/name: SIBYL_ROUTER_ADDRESS\n\s+value: \{\{ include "sibyl.routerAddress"/);
    expect(helpers).toMatch(/define "sibyl.routerAddress"[\s\S]*?printf "%s-router:8004"/);
    const service = template('gateway-service.yaml');
    expect(service).toMatch(/^kind: Service$/m);
    expect(service).toContain('(dict "ctx" $ "component" "gateway")');
    for (const [name, port] of [['http', 8000], ['grpc', 8001], ['metrics', 8002]] as const) {
      expect(service).toMatch(new RegExp(`- name: ${name}\\n\\s+port: ${port}\\n\\s+targetPort: ${name}`));
    }
  });

  it('router: Deployment with gRPC probes on :8004 (grpc.health.v1), and a Service', () => {
    const text = template('router-deployment.yaml');
    expectSibylPod(text);
    expect(text).toContain('args: ["router"]');
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(block(text, probe), probe).toMatch(/grpc:\n\s+port: 8004/);
    }
    expect(containerPort(text, 'router-grpc')).toBe(8004);
    expect(text).toContain('include "sibyl.databaseEnv"');
    expect(text).toContain('include "sibyl.redisEnv"');
    const service = template('router-service.yaml');
    expect(service).toMatch(/^kind: Service$/m);
    expect(service).toMatch(/- name: router-grpc\n\s+port: 8004\n\s+targetPort: router-grpc/);
  });

  it('management: Deployment probing /v1/health on :8003, its data dir on the PVC, and a ClusterIP Service', () => {
    const text = template('management-deployment.yaml');
    expectSibylPod(text);
    expect(text).toContain('args: ["management"]');
    expect(containerPort(text, 'management')).toBe(8003);
    // Readiness stays 200 while PostgreSQL is down (the artifact server keeps serving workers).
    for (const probe of ['startupProbe', 'livenessProbe']) {
      expect(block(text, probe), probe).toMatch(/httpGet:\n\s+path: \/v1\/health\/live\n\s+port: management/);
    }
    expect(block(text, 'readinessProbe')).toMatch(/httpGet:\n\s+path: \/v1\/health\/ready\n\s+port: management/);
    expect(text).toMatch(/name: SIBYL_MANAGEMENT_ADDRESS\n\s+value: "0.0.0.0"/);
    expect(text).toMatch(/name: SIBYL_DATA_DIR\n\s+value: \/var\/lib\/sibyl/);
    expect(text).toMatch(/- name: data\n\s+mountPath: \/var\/lib\/sibyl/);
    expect(text).toContain('persistentVolumeClaim:');
    expect(text).toMatch(/strategy:\n\s+type: Recreate/);
    const pvc = template('management-pvc.yaml');
    expect(pvc).toMatch(/^kind: PersistentVolumeClaim$/m);
    expect(pvc).toContain('.Values.management.persistence.size');
    const service = template('management-service.yaml');
    expect(service).toMatch(/type: ClusterIP/);
    expect(service).toMatch(/- name: management\n\s+port: 8003/);
    expect(helpers).toMatch(/define "sibyl.managementUrl"[\s\S]*?printf "http:\/\/%s-management:8003"/);
  });

  it('workers: one Deployment and one headless Service per enabled pool, probed on v2 health at :8000', () => {
    const text = template('worker-deployment.yaml');
    expectSibylPod(text);
    expect(text).toMatch(/range \$name, \$pool := \.Values\.workers\.pools/);
    expect(text).toMatch(/if \$pool\.enabled/);
    // worker-onnx for sibyl-onnx, worker-tf for sibyl-tf
    expect(text).toContain('printf "worker-%s" (trimPrefix "sibyl-" $pool.kind)');
    expect(text).toContain('args: [{{ $app | quote }}]');
    expect(httpProbe(text, 'readinessProbe')).toEqual({ path: '/v2/health/ready', port: 8000 });
    expect(httpProbe(text, 'livenessProbe')).toEqual({ path: '/v2/health/live', port: 8000 });
    for (const env of ['SIBYL_POOL', 'SIBYL_ADVERTISE_HOST', 'SIBYL_ARTIFACT_URL', 'SIBYL_MODEL_CACHE_BYTES', 'SIBYL_DATA_DIR']) {
      expect(text).toContain(`- name: ${env}`);
    }
    expect(text).toMatch(/name: SIBYL_ADVERTISE_HOST\n\s+valueFrom:\n\s+fieldRef:\n\s+fieldPath: status.podIP/);
    // Helm reads YAML numbers as float64: large byte counts must be printed as integers.
    expect(text).toContain('$pool.modelCacheBytes | int64 | quote');
    expect(text).toMatch(/- name: model-cache\n\s+emptyDir:\n\s+sizeLimit: \{\{ \$pool\.cacheSizeLimit \}\}/);
    const service = template('worker-service.yaml');
    expect(service).toMatch(/^kind: Service$/m);
    expect(service).toMatch(/range \$name, \$pool := \.Values\.workers\.pools/);
    expect(service).toContain('clusterIP: None');
    const pools = (defaultValues().workers as Values).pools as Record<string, Values>;
    expect(Object.keys(pools).sort()).toEqual(['onnx', 'tf']);
    expect(Object.values(pools).map((p) => p.kind).sort()).toEqual(['sibyl-onnx', 'sibyl-tf']);
  });

  it.each([
    ['gateway-hpa.yaml', 'HorizontalPodAutoscaler', 'autoscaling/v2', '.Values.gateway.autoscaling.enabled'],
    ['worker-hpa.yaml', 'HorizontalPodAutoscaler', 'autoscaling/v2', '$pool.autoscaling.enabled'],
    ['gateway-pdb.yaml', 'PodDisruptionBudget', 'policy/v1', '.Values.gateway.pdb.enabled'],
    ['worker-pdb.yaml', 'PodDisruptionBudget', 'policy/v1', '$pool.pdb.enabled'],
    ['router-pdb.yaml', 'PodDisruptionBudget', 'policy/v1', '.Values.router.pdb.enabled'],
  ])('%s: a %s (%s) switched by %s', (file, kind, apiVersion, switchedBy) => {
    const text = template(file);
    expect(text).toMatch(new RegExp(`^kind: ${kind}$`, 'm'));
    expect(text).toMatch(new RegExp(`^apiVersion: ${apiVersion.replace('/', '\\/')}$`, 'm'));
    expect(text).toContain(switchedBy);
  });

  it('HPAs scale the Deployments they name, and a Deployment under an HPA leaves replicas to it', () => {
    expect(template('gateway-hpa.yaml')).toMatch(/kind: Deployment\n\s+name: \{\{ include "sibyl.fullname" \. \}\}-gateway/);
    expect(template('worker-hpa.yaml')).toMatch(/kind: Deployment\n\s+name: \{\{ include "sibyl.fullname" \$ \}\}-worker-\{\{ \$name \}\}/);
    expect(template('gateway-deployment.yaml')).toMatch(/if not \.Values\.gateway\.autoscaling\.enabled \}\}\n\s+replicas:/);
    expect(template('worker-deployment.yaml')).toMatch(/if not \$pool\.autoscaling\.enabled \}\}\n\s+replicas:/);
  });

  it('pods run as a non-root user on a read-only root filesystem, and drain longer than exitTimeoutSecs', () => {
    const common = block(helpers.slice(helpers.indexOf('define "sibyl.podSpecCommon"')), 'securityContext');
    expect(common).toMatch(/runAsNonRoot: true/);
    expect(common).toMatch(/runAsUser: 10001/);
    const container = block(helpers.slice(helpers.indexOf('define "sibyl.containerSecurityContext"')), 'securityContext');
    expect(container).toMatch(/readOnlyRootFilesystem: true/);
    expect(container).toMatch(/allowPrivilegeEscalation: false/);
    expect(container).toMatch(/drop: \["ALL"\]/);
    expect(helpers).toMatch(/terminationGracePeriodSeconds: \{\{ include "sibyl.terminationGracePeriodSeconds" \. \}\}/);
    const grace = /add \.Values\.config\.preStopSleepSecs \.Values\.config\.exitTimeoutSecs (\d+)/.exec(helpers);
    expect(grace).not.toBeNull();
    const config = defaultValues().config as Values;
    const graceSecs = (config.preStopSleepSecs as number) + (config.exitTimeoutSecs as number) + Number(grace![1]);
    expect(graceSecs - (config.preStopSleepSecs as number)).toBeGreaterThan(config.exitTimeoutSecs as number);
  });

  it('URLs of PostgreSQL and Redis come from Secrets, never from plain env values', () => {
    for (const [key, env] of [['database', 'DATABASE_URL'], ['redis', 'REDIS_URL']] as const) {
      const body = helpers.slice(helpers.indexOf(`define "sibyl.${key}Env"`));
      expect(body).toMatch(new RegExp(`- name: ${env}\\n\\s+valueFrom:\\n\\s+secretKeyRef:`));
      expect(body).toContain(`.Values.${key}.existingSecret`);
      expect(body).toMatch(/fail "/);
    }
    const secret = template('secret.yaml');
    expect(secret).toMatch(/^kind: Secret$/m);
    expect(secret).toContain('DATABASE_URL: {{ .Values.database.url | quote }}');
    expect(secret).toContain('REDIS_URL: {{ .Values.redis.url | quote }}');
    for (const [name, text] of templates()) {
      if (name === 'secret.yaml' || name === '_helpers.tpl') continue;
      expect(text, name).not.toMatch(/\.Values\.(database|redis)\.url/);
    }
  });

  it('the ServiceMonitor (monitoring.coreos.com/v1) scrapes the port named metrics, which every Service has', () => {
    const monitor = template('servicemonitor.yaml');
    expect(monitor).toContain('if .Values.metrics.serviceMonitor.enabled');
    expect(monitor).toMatch(/^apiVersion: monitoring\.coreos\.com\/v1$/m);
    expect(monitor).toMatch(/- port: metrics\n\s+path: \/metrics/);
    for (const file of ['gateway-service.yaml', 'router-service.yaml', 'management-service.yaml', 'worker-service.yaml']) {
      expect(template(file), file).toMatch(/- name: metrics\n\s+port: 8002\n\s+targetPort: metrics/);
    }
  });

  it('the routing Job posts pools and routes to the management API with curl, once, after install', () => {
    const job = template('routing-job.yaml');
    expect(job).toMatch(/^kind: Job$/m);
    expect(job).toContain('helm.sh/hook: post-install');
    expect(job).not.toMatch(/post-upgrade/);
    expect(job).toContain('command: ["sh", "/routing/apply.sh"]');
    const configMap = template('routing-configmap.yaml');
    const script = configMap.slice(configMap.indexOf('apply.sh: |'));
    expect(script).toMatch(/curl [^\n]*"\$base\/v1\/status"/);
    expect(script).toContain('post /v1/pools "$body"');
    expect(script).toContain('post /v1/routes "$body"');
    expect(script).toMatch(/-X POST/);
    expect(script).toContain("-H 'content-type: application/json'");
    expect(script).toContain('x-sibyl-actor');
    // The bodies are the API's snake_case fields.
    expect(configMap).toMatch(/dict "name" \$name "kind" \$pool\.kind "discovery" true "description"/);
    expect(configMap).toMatch(/dict "name" \.name "kind" \.kind "endpoints" \.endpoints "discovery" false "description"/);
    expect(configMap).toMatch(/dict "priority" \(int \$route\.priority\) "pool" \$route\.pool "match" .* "description"/);
  });

  it('NOTES.txt tells how to reach the gateway and the management API', () => {
    const notes = read(`${CHART}templates/NOTES.txt`);
    expect(notes).toContain('port-forward svc/{{ include "sibyl.fullname" . }}-gateway');
    expect(notes).toContain('port-forward svc/{{ include "sibyl.fullname" . }}-management');
  });

  it('every template without Go template syntax in its structure is valid YAML (Chart.yaml, values, examples)', () => {
    for (const file of ['Chart.yaml', 'values.yaml', ...['small', 'production', 'with-triton'].map((n) => `examples/${n}.yaml`)]) {
      expect(() => parse(read(`${CHART}${file}`)), file).not.toThrow();
    }
  });
});

describe('Chart.yaml', () => {
  const chart = parse(read(`${CHART}Chart.yaml`)) as Values;

  it('is a Helm 3 application chart named sibyl with semantic versions', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('sibyl');
    expect(chart.type).toBe('application');
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(typeof chart.description).toBe('string');
  });

  it('has the appVersion of the apps it deploys', () => {
    const cli = JSON.parse(read(new URL('../../../apps/cli/package.json', import.meta.url).pathname)) as { version: string };
    expect(chart.appVersion).toBe(cli.version);
  });

  it('requires a Kubernetes with gRPC probes (GA in 1.27)', () => {
    expect(chart.kubeVersion).toMatch(/^>=1\.(2[7-9]|[3-9]\d)/);
  });
});
