// Hash routes: #/wall/{screenIndex}, #/view/{volume|sentiment|stream}, #/operator.
// A query after the route (`#/view/stream?topic=outage&token=…`) carries options.

import type { ViewKind } from './types';

export const VIEW_KINDS: readonly ViewKind[] = ['volume', 'sentiment', 'stream'];

export type Route =
  | { name: 'wall'; screen: number }
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

export function parseRoute(hash: string): Route {
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
