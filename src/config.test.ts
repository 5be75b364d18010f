import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('config', () => {
  it('has working defaults for an empty environment (embedded PGlite in ./data)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, DATA_DIR: './data', RATE_LIMIT_ENABLED: true, RUN_WORKERS: true });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('treats empty strings as unset and parses booleans and lists', () => {
    const config = loadConfig({ DATABASE_URL: '', RATE_LIMIT_ENABLED: 'false', CORS_ORIGINS: 'http://a.test, http://b.test' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.RATE_LIMIT_ENABLED).toBe(false);
    expect(config.CORS_ORIGINS).toEqual(['http://a.test', 'http://b.test']);
  });

  it('names every invalid variable in one readable error', () => {
    expect(() => loadConfig({ PORT: 'abc', JWT_SECRET: 'short', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'abc', JWT_SECRET: 'short', LOG_LEVEL: 'loud' });
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT/);
      expect((err as Error).message).toMatch(/JWT_SECRET/);
      expect((err as Error).message).toMatch(/LOG_LEVEL/);
    }
  });
});
