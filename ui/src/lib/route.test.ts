import { describe, expect, it } from 'vitest';
import { parseRoute, splitHash } from './route';
import { stripToken, takeToken, TOKEN_KEY, type TokenEnv } from './token';

describe('parseRoute', () => {
  it('defaults to the operator window', () => {
    expect(parseRoute('')).toEqual({ name: 'operator' });
    expect(parseRoute('#/')).toEqual({ name: 'operator' });
    expect(parseRoute('#/operator')).toEqual({ name: 'operator' });
  });

  it('reads wall screens', () => {
    expect(parseRoute('#/wall/0')).toEqual({ name: 'wall', screen: 0 });
    expect(parseRoute('#/wall/3?token=x')).toEqual({ name: 'wall', screen: 3 });
    expect(parseRoute('#/wall')).toEqual({ name: 'wall', screen: 0 });
    expect(parseRoute('#/wall/-1').name).toBe('unknown');
    expect(parseRoute('#/wall/abc').name).toBe('unknown');
  });

  it('reads single views with optional filters', () => {
    expect(parseRoute('#/view/volume')).toEqual({ name: 'view', view: 'volume' });
    expect(parseRoute('#/view/stream?topic=outage&channel=x&token=t')).toEqual({
      name: 'view',
      view: 'stream',
      topic: 'outage',
      channel: 'x',
    });
    expect(parseRoute('#/view/nope').name).toBe('unknown');
  });

  it('splits the hash query', () => {
    const { path, query } = splitHash('#/view/volume?token=a%20b');
    expect(path).toBe('/view/volume');
    expect(query.get('token')).toBe('a b');
  });
});

function env(href: string, stored: Record<string, string> = {}): TokenEnv & { url: string; store: Record<string, string> } {
  const store = { ...stored };
  const e = {
    href,
    url: href,
    store,
    storage: {
      getItem: (k: string) => store[k] ?? null,
      setItem: (k: string, v: string) => void (store[k] = v),
      removeItem: (k: string) => void delete store[k],
    },
    replaceUrl: (u: string) => void (e.url = u),
  };
  return e;
}

describe('token', () => {
  it('takes the token from the hash query, stores it, and removes it from the URL', () => {
    const e = env('http://h:1/#/view/volume?token=s3cr%2Bt&topic=x');
    expect(takeToken(e)).toBe('s3cr+t');
    expect(e.store[TOKEN_KEY]).toBe('s3cr+t');
    expect(e.url).toBe('http://h:1/#/view/volume?topic=x');
  });

  it('takes the token from the page query too', () => {
    const e = env('http://h:1/?token=abc#/wall/1');
    expect(takeToken(e)).toBe('abc');
    expect(e.url).toBe('http://h:1/#/wall/1');
  });

  it('accepts access_token as a synonym', () => {
    expect(stripToken('http://h/#/operator?access_token=z')).toEqual({ url: 'http://h/#/operator', token: 'z' });
  });

  it('falls back to session storage and leaves a clean URL alone', () => {
    const e = env('http://h:1/#/wall/0', { [TOKEN_KEY]: 'kept' });
    expect(takeToken(e)).toBe('kept');
    expect(e.url).toBe('http://h:1/#/wall/0');
  });

  it('has no token when there is none', () => {
    expect(takeToken(env('http://h:1/#/wall/0'))).toBeNull();
    expect(takeToken(env('http://h:1/#/wall/0?token='))).toBeNull();
  });
});
