// How the access token reaches a browser page (docs/ui.md):
//  1. `?token=…` in the URL, either in the query (`/?token=…#/wall/0`) or after the hash route
//     (`/#/view/volume?token=…`). It is moved to sessionStorage and removed from the address bar
//     at once (history.replaceState), so it does not stay visible on a wall or in screenshots.
//  2. Otherwise sessionStorage (survives reloads of that tab, not a new browser session).
//  3. Otherwise, or when the server answers 401, the page shows a small login form.

export const TOKEN_KEY = 'sunward.token';

export interface TokenEnv {
  href: string;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  replaceUrl(url: string): void;
}

/** Remove `token` (and `access_token`) from a URL's query and from its hash's query. */
export function stripToken(href: string): { url: string; token: string | null } {
  const u = new URL(href);
  let token: string | null = null;
  for (const k of ['token', 'access_token']) {
    const v = u.searchParams.get(k);
    if (v !== null) {
      token ??= v;
      u.searchParams.delete(k);
    }
  }
  const hash = u.hash.startsWith('#') ? u.hash.slice(1) : u.hash;
  const q = hash.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(hash.slice(q + 1));
    for (const k of ['token', 'access_token']) {
      const v = params.get(k);
      if (v !== null) {
        token ??= v;
        params.delete(k);
      }
    }
    const rest = params.toString();
    u.hash = hash.slice(0, q) + (rest ? `?${rest}` : '');
  }
  return { url: u.toString(), token: token === '' ? null : token };
}

/** Read the token from the URL (and persist it) or from storage. */
export function takeToken(env: TokenEnv): string | null {
  const { url, token } = stripToken(env.href);
  if (url !== env.href) env.replaceUrl(url);
  if (token) {
    try {
      env.storage?.setItem(TOKEN_KEY, token);
    } catch {
      /* storage may be disabled: the token still works for this page */
    }
    return token;
  }
  try {
    return env.storage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    return null;
  }
}

export function saveToken(env: Pick<TokenEnv, 'storage'>, token: string | null): void {
  try {
    if (token) env.storage?.setItem(TOKEN_KEY, token);
    else env.storage?.removeItem(TOKEN_KEY);
  } catch {
    /* ignore */
  }
}

export function browserTokenEnv(): TokenEnv {
  let storage: Storage | null = null;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = null;
  }
  return {
    href: window.location.href,
    storage,
    replaceUrl: (url) => window.history.replaceState(window.history.state, '', url),
  };
}
