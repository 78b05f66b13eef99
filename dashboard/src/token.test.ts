import { describe, expect, it } from 'vitest';
import { TOKEN_KEY, forgetToken, readToken, saveToken, takeTokenFromFragment } from './token.js';

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
    items,
  };
}

describe('API token on the page', () => {
  it('takes the token from the fragment, keeps it, and gives back the fragment without it', () => {
    const storage = memoryStorage();
    expect(takeTokenFromFragment('#token=s3cr%2Bt-abc&view=replay', storage)).toBe('view=replay');
    expect(readToken(storage)).toBe('s3cr+t-abc');
    expect(takeTokenFromFragment('#token=only', storage)).toBe('');
    expect(readToken(storage)).toBe('only');
    expect(takeTokenFromFragment('#a=1&token=with+plus/slash=', storage)).toBe('a=1');
    expect(readToken(storage)).toBe('with+plus/slash=');
  });

  it('leaves everything alone when the fragment has no token', () => {
    const storage = memoryStorage();
    expect(takeTokenFromFragment('', storage)).toBeNull();
    expect(takeTokenFromFragment('#view=live', storage)).toBeNull();
    expect(storage.items.size).toBe(0);
  });

  it('does not store an empty token, and forgets on request', () => {
    const storage = memoryStorage();
    expect(takeTokenFromFragment('#token=', storage)).toBe('');
    expect(readToken(storage)).toBeNull();
    saveToken(storage, '  typed-token  ');
    expect(storage.items.get(TOKEN_KEY)).toBe('typed-token');
    forgetToken(storage);
    expect(readToken(storage)).toBeNull();
  });
});
