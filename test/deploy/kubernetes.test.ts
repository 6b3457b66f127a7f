import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { derToPem } from '../../src/pki/pem';
import { buildTestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';
import { DEPLOY, ROOT, readYaml, ruleGroups } from './shipped';

const KUBE = join(DEPLOY, 'kubernetes');
const SHARDED = join(DEPLOY, 'kubernetes-sharded');

interface Kustomization {
  resources: string[];
  configMapGenerator: { name: string; files: string[] }[];
}

interface Probe {
  httpGet: { path: string; port: string };
}

interface Container {
  name: string;
  image: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
  volumeMounts: { name: string; mountPath: string }[];
}

interface Deployment {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        automountServiceAccountToken: boolean;
        securityContext: { runAsNonRoot: boolean; runAsUser: number; seccompProfile: { type: string } };
        containers: Container[];
        volumes: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}

interface Service {
  metadata: { name: string; labels: Record<string, string> };
  spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
}

interface ServiceMonitor {
  spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
}

const manifest = (file: string): unknown => readYaml(join(KUBE, file));

describe('the Kubernetes manifests', () => {
  const kustomization = manifest('kustomization.yaml') as Kustomization;
  const deployment = manifest('deployment.yaml') as Deployment;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0] as Container;
  const service = manifest('service.yaml') as Service;

  it('list in kustomization.yaml only files that exist, each holding one object', () => {
    for (const file of [...kustomization.resources, ...kustomization.configMapGenerator.flatMap((g) => g.files)]) {
      expect([file, existsSync(join(KUBE, file))]).toEqual([file, true]);
    }
    for (const file of kustomization.resources) {
      const documents = parseAllDocuments(readFileSync(join(KUBE, file), 'utf8'));
      expect([file, documents.length, documents.flatMap((d) => d.errors)]).toEqual([file, 1, []]);
    }
  });

  it('run certexp as non-root on a read-only root filesystem with no privileges and no API token', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('request resources and cap memory', () => {
    expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(container.resources.limits.memory).toMatch(/^\d+Mi$/);
  });

  it('probe liveness on /-/healthy and readiness on /-/ready, on the port certexp listens on', () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/-/healthy', port: 'http-metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/-/ready', port: 'http-metrics' });
    const listen = container.args.find((arg) => arg.startsWith('--web.listen-address='));
    expect(container.ports).toEqual([{ name: 'http-metrics', containerPort: Number(listen?.split(':').pop()) }]);
  });

  it('wire the config map, the Service and the ServiceMonitor to the pod by name and label', () => {
    const configVolume = pod.volumes.find((v) => v.configMap?.name === kustomization.configMapGenerator[0]?.name);
    const mount = container.volumeMounts.find((m) => m.name === configVolume?.name);
    expect(container.args).toContain(`--config.file=${mount?.mountPath ?? '?'}/${kustomization.configMapGenerator[0]?.files[0] ?? '?'}`);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports[0]?.targetPort).toBe('http-metrics');
    const monitor = manifest('servicemonitor.yaml') as ServiceMonitor;
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: service.spec.ports[0]?.name, path: '/metrics' })]);
  });

  it('name the Service certexp, the job name that the CertExporterDown alert selects', () => {
    expect(service.metadata.name).toBe('certexp');
    expect(JSON.stringify(ruleGroups())).toContain('up{job=\\"certexp\\"}');
  });

  it('hold in the PrometheusRule exactly the groups of deploy/prometheus/rules.yml', () => {
    const rule = manifest('prometheusrule.yaml') as { kind: string; spec: { groups: unknown } };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec.groups).toEqual(ruleGroups());
  });

  it('commit the PrometheusRule as generate-prometheusrule.sh writes it from rules.yml', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certexp-kube-'));
    try {
      const out = join(dir, 'prometheusrule.yaml');
      const result = spawnSync('sh', [join(KUBE, 'generate-prometheusrule.sh'), out], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(readFileSync(join(KUBE, 'prometheusrule.yaml'), 'utf8')).toBe(readFileSync(out, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ship a certexp config that certexp --config.check accepts, given the CA file the pod mounts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certexp-kube-'));
    try {
      const caMount = container.volumeMounts.find((m) => m.name === 'kube-root-ca')?.mountPath ?? '?';
      const config = readFileSync(join(KUBE, 'certexp.yml'), 'utf8');
      expect(config).toContain(`ca_file: ${caMount}/ca.crt`);
      await writeFile(join(dir, 'ca.crt'), derToPem((await buildTestPki()).root.der));
      await writeFile(join(dir, 'certexp.yml'), config.replaceAll(`${caMount}/ca.crt`, join(dir, 'ca.crt')));
      const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'main.js'), '--config.check', `--config.file=${join(dir, 'certexp.yml')}`], { encoding: 'utf8' });
      expect([result.status, result.stderr]).toEqual([0, '']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the sharded variant (deploy/kubernetes-sharded)', () => {
  const deployment = manifest('deployment.yaml') as Deployment;
  const statefulSet = readYaml(join(SHARDED, 'statefulset.yaml')) as Deployment & { kind: string; spec: { serviceName: string } };
  const container = statefulSet.spec.template.spec.containers[0] as Container;

  it('runs the Deployment\'s pod, adding only --shard=auto/N with N the StatefulSet\'s replicas', () => {
    expect(statefulSet.kind).toBe('StatefulSet');
    expect(container.args).toContain(`--shard=auto/${statefulSet.spec.replicas}`);
    expect(statefulSet.spec.replicas).toBeGreaterThan(1);
    const withoutShard = { ...container, args: container.args.filter((arg) => !arg.startsWith('--shard=')) };
    expect({ ...statefulSet.spec.template, spec: { ...statefulSet.spec.template.spec, containers: [withoutShard] } }).toEqual(deployment.spec.template);
    expect(statefulSet.spec.selector).toEqual(deployment.spec.selector);
  });

  it('is governed by the Service that the ServiceMonitor scrapes, so every replica is scraped', () => {
    const service = manifest('service.yaml') as Service;
    expect(statefulSet.spec.serviceName).toBe(service.metadata.name);
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(service.spec.selector);
  });
});

describeWithTool('kubectl', 'kubernetes-client', 'kubectl kustomize on deploy/kubernetes', () => {
  it('builds the kustomization into the five objects, the config map named by its content', () => {
    const result = spawnSync('kubectl', ['kustomize', KUBE], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    const objects = parseAllDocuments(result.stdout).map((d) => d.toJS() as Deployment & { kind: string; metadata: { name: string; namespace: string } });
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'PrometheusRule', 'Service', 'ServiceMonitor']);
    const configMap = objects.find((o) => o.kind === 'ConfigMap');
    expect(configMap?.metadata.name).toMatch(/^certexp-config-[a-z0-9]{10}$/);
    const volumes = objects.find((o) => o.kind === 'Deployment')?.spec.template.spec.volumes ?? [];
    expect(volumes.map((v) => v.configMap?.name)).toContain(configMap?.metadata.name);
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['monitoring']));
  });

  it('builds the sharded variant: the StatefulSet in place of the Deployment, the same config map, image and namespace', () => {
    const build = (dir: string): (Deployment & { kind: string; metadata: { name: string; namespace: string } })[] => {
      const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 30_000 });
      expect(result.stderr).toBe('');
      return parseAllDocuments(result.stdout).map((d) => d.toJS() as Deployment & { kind: string; metadata: { name: string; namespace: string } });
    };
    const base = build(KUBE);
    const sharded = build(SHARDED);
    expect(sharded.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'PrometheusRule', 'Service', 'ServiceMonitor', 'StatefulSet']);
    expect(new Set(sharded.map((o) => o.metadata.namespace))).toEqual(new Set(['monitoring']));
    const pod = (objects: typeof base, kind: string) => objects.find((o) => o.kind === kind)?.spec.template.spec;
    const configMap = base.find((o) => o.kind === 'ConfigMap')?.metadata.name;
    expect(pod(sharded, 'StatefulSet')?.volumes.map((v) => v.configMap?.name)).toContain(configMap);
    expect(pod(sharded, 'StatefulSet')?.containers[0]?.image).toBe(pod(base, 'Deployment')?.containers[0]?.image);
  });
});
