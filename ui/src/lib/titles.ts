import type { ScreenView } from './model';

const TITLES: Record<string, string> = {
  volume: 'Volume',
  sentiment: 'Sentiment',
  stream: 'Latest mentions',
  topics: 'Topics',
  top_posts: 'Top posts by reach',
  follow_the_sun: 'Follow the sun',
  kpi: 'Key figures',
  health: 'Wall health',
  highlights: 'Highlights',
  tour: 'Welcome',
  alerts: 'Alerts',
  crisis: 'Crisis',
  agent_load: 'Agent load',
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
