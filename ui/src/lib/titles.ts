import type { ScreenView } from './model';

const TITLES: Record<string, string> = {
  volume: 'Volume',
  sentiment: 'Sentiment',
  stream: 'Latest mentions',
};

export function viewTitle(v: ScreenView): string {
  return v.kind === 'unknown' ? v.name : (TITLES[v.kind] ?? v.kind);
}

/** "topic: outage · channel: x", or "" without filters. */
export function viewFilter(v: ScreenView): string {
  if (v.kind === 'unknown') return '';
  const parts: string[] = [];
  if (v.topic) parts.push(`topic: ${v.topic}`);
  if (v.channel) parts.push(`channel: ${v.channel}`);
  return parts.join(' · ');
}
