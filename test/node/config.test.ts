import { describe, it, expect } from 'vitest';
import { ConfigError, loadConfig } from '../../node/config';

describe('loadConfig', () => {
  it('gives LevelDB a 64 MiB write buffer by default and takes TIANFU_DB_WRITE_BUFFER_MB in MiB', () => {
    expect(loadConfig({}).dbWriteBufferBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ TIANFU_DB_WRITE_BUFFER_MB: '16' }).dbWriteBufferBytes).toBe(16 * 1024 * 1024);
  });

  it.each(['0', '1025', '1.5', 'big'])('refuses TIANFU_DB_WRITE_BUFFER_MB=%s, naming the variable', (v) => {
    expect(() => loadConfig({ TIANFU_DB_WRITE_BUFFER_MB: v })).toThrow(ConfigError);
    expect(() => loadConfig({ TIANFU_DB_WRITE_BUFFER_MB: v })).toThrow(/TIANFU_DB_WRITE_BUFFER_MB/);
  });
});
