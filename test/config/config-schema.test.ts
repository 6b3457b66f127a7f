import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigSchema, schemaJson } from '../../src/config/config-schema';

describe('config schema', () => {
  // If this fails after a schema change, regenerate the file with the one-liner at the top of
  // src/config/config-schema.ts.
  it('matches the published config/certexp.schema.json when the schema changes', () => {
    const published = readFileSync(join(__dirname, '..', '..', 'config', 'certexp.schema.json'), 'utf8');
    expect(published).toBe(JSON.stringify(ConfigSchema, null, 2) + '\n');
    expect(published).toBe(schemaJson());
  });

  it('rejects unknown keys at every level when an editor validates against it', () => {
    const schema = JSON.parse(schemaJson()) as {
      additionalProperties: boolean;
      properties: { defaults: { additionalProperties: boolean }; targets: { items: { additionalProperties: boolean } } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.defaults.additionalProperties).toBe(false);
    expect(schema.properties.targets.items.additionalProperties).toBe(false);
  });

  it('describes every property when an editor shows hover help', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const { properties, items } = node as { properties?: Record<string, unknown>; items?: unknown };
      for (const [key, child] of Object.entries(properties ?? {})) {
        if (typeof (child as { description?: unknown }).description !== 'string') missing.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
      }
      walk(items, `${path}[]`);
    };
    walk(JSON.parse(schemaJson()), '');
    expect(missing).toEqual([]);
  });
});
