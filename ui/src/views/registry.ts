// The one place wall view kinds are registered: kind -> component and title. A new view is one
// import and one line here (and its name in lib/route.ts VIEW_KINDS and src/wall/views.rs).
// The alert takeover pins `crisis` (Wall.svelte); without it, the built-in TakeoverCard.

import type { Component } from 'svelte';
import type { ViewSpec } from '../lib/model';
import type { Transport } from '../lib/transport';
import AgentLoadView from './AgentLoadView.svelte';
import AlertsView from './AlertsView.svelte';
import CrisisView from './CrisisView.svelte';
import FollowSunView from './FollowSunView.svelte';
import HealthView from './HealthView.svelte';
import HighlightsView from './HighlightsView.svelte';
import KpiView from './KpiView.svelte';
import SentimentView from './SentimentView.svelte';
import StreamView from './StreamView.svelte';
import TopicsView from './TopicsView.svelte';
import TopPostsView from './TopPostsView.svelte';
import TourView from './TourView.svelte';
import VolumeView from './VolumeView.svelte';

export type ViewProps = { transport: Transport; spec: ViewSpec };

export interface ViewEntry {
  component: Component<ViewProps>;
  title: string;
}

export const VIEWS: Record<string, ViewEntry> = {
  volume: { component: VolumeView, title: 'Volume' },
  sentiment: { component: SentimentView, title: 'Sentiment' },
  stream: { component: StreamView, title: 'Latest mentions' },
  topics: { component: TopicsView, title: 'Topics' },
  top_posts: { component: TopPostsView, title: 'Top posts by reach' },
  follow_the_sun: { component: FollowSunView, title: 'Follow the sun' },
  kpi: { component: KpiView, title: 'Key figures' },
  health: { component: HealthView, title: 'Wall health' },
  highlights: { component: HighlightsView, title: 'Highlights' },
  tour: { component: TourView, title: 'Welcome' },
  agent_load: { component: AgentLoadView, title: 'Agent load' },
  alerts: { component: AlertsView, title: 'Alerts' },
  // The alert takeover pins this one (Wall.svelte).
  crisis: { component: CrisisView, title: 'Crisis' },
};

export function viewEntry(kind: string): ViewEntry | null {
  return Object.prototype.hasOwnProperty.call(VIEWS, kind) ? (VIEWS[kind] ?? null) : null;
}
