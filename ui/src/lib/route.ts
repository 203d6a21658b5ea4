// Routes. Hash routes: #/wall/{screenIndex}, #/view/{kind}, #/operator. A query after the route
// (`#/view/stream?topic=outage&token=…`) carries options.
// Remote walls use a path: /wall/{profile}/{screen} (served by `sunward serve`), so a wall PC
// with only a browser opens http://HOST:PORT/wall/lobby/0?token=….

import type { ViewKind } from './types';

/** Every wall view kind. Add a view: one name here, one line in views/registry.ts (and the
 *  core's src/wall/views.rs). */
export const VIEW_KINDS: readonly ViewKind[] = [
  'volume',
  'sentiment',
  'stream',
  'topics',
  'top_posts',
  'follow_the_sun',
  'kpi',
  'health',
  'highlights',
  'tour',
  'alerts',
  'crisis',
  'agent_load',
];

export type Route =
  | { name: 'wall'; screen: number; profile?: string }
  | { name: 'view'; view: ViewKind; topic?: string; channel?: string }
  | { name: 'operator' }
  | { name: 'unknown'; path: string };

export function isViewKind(v: unknown): v is ViewKind {
  return typeof v === 'string' && (VIEW_KINDS as readonly string[]).includes(v);
}

/** Split "#/view/volume?token=x" into path "/view/volume" and its query. */
export function splitHash(hash: string): { path: string; query: URLSearchParams } {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = h.indexOf('?');
  const path = q >= 0 ? h.slice(0, q) : h;
  const query = new URLSearchParams(q >= 0 ? h.slice(q + 1) : '');
  return { path, query };
}

const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** `/wall/{profile}/{screen}` (a remote wall), else null. */
export function parseWallPath(pathname: string): Route | null {
  const parts = pathname.split('/').filter(Boolean);
  if (parts[0] !== 'wall' || parts.length < 2 || parts.length > 3) return null;
  let profile: string;
  try {
    profile = decodeURIComponent(parts[1] ?? '');
  } catch {
    return { name: 'unknown', path: pathname };
  }
  const screen = Number(parts[2] ?? '0');
  if (!PROFILE_NAME.test(profile) || !Number.isInteger(screen) || screen < 0) {
    return { name: 'unknown', path: pathname };
  }
  return { name: 'wall', screen, profile };
}

export function parseRoute(hash: string, pathname = '/'): Route {
  const remote = parseWallPath(pathname);
  if (remote) return remote;
  const { path, query } = splitHash(hash);
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const [head, arg] = parts;
  if (head === undefined || head === 'operator') return { name: 'operator' };
  if (head === 'wall') {
    const screen = Number(arg ?? '0');
    if (Number.isInteger(screen) && screen >= 0) return { name: 'wall', screen };
    return { name: 'unknown', path };
  }
  if (head === 'view' && isViewKind(arg)) {
    const route: Route = { name: 'view', view: arg };
    const topic = query.get('topic');
    const channel = query.get('channel');
    if (topic) route.topic = topic;
    if (channel) route.channel = channel;
    return route;
  }
  return { name: 'unknown', path };
}

export function viewHref(view: ViewKind): string {
  return `#/view/${view}`;
}

export function wallHref(screen: number): string {
  return `#/wall/${screen}`;
}

/** The address of a remote wall screen (give it a wall token: `?token=…`). */
export function remoteWallHref(profile: string, screen: number): string {
  return `/wall/${encodeURIComponent(profile)}/${screen}`;
}
