// Types of the Sunward API contract (docs/architecture.md). All times: integer ms UTC.

export type Label = 'negative' | 'neutral' | 'positive';

export interface Author {
  handle?: string;
  name?: string;
  followers?: number;
  verified?: boolean;
}

/** A stored mention: the normalized record (flattened) plus its enrichment. */
export interface StoredMention {
  id: number;
  source: string;
  source_id: string;
  channel: string;
  created_at: number;
  text: string;
  author?: Author;
  url?: string;
  lang?: string;
  in_reply_to?: string;
  topics?: string[];
  inbound?: boolean;
  sentiment: number;
  label: Label;
  influence: number;
}

export interface Health {
  ok: boolean;
  version: string;
  demo: boolean;
  mentions: number;
  now: number;
}

export interface VolumePoint {
  t: number;
  total: number;
  negative: number;
  neutral: number;
  positive: number;
}

/** A ranked row. docs/architecture.md says `{channel|topic, total}`; the core sends
 *  `{name, total, negative, neutral, positive}`. Both are read (model.ts#rankName). */
export interface Ranked {
  channel?: string;
  topic?: string;
  name?: string;
  total: number;
  negative?: number;
  neutral?: number;
  positive?: number;
}

export interface Volume {
  from: number;
  to: number;
  /** Sent by the core (not in the contract table): the window's counts. */
  total?: { total: number; negative?: number; neutral?: number; positive?: number } | number;
  series: VolumePoint[];
  by_channel: Ranked[];
  by_topic: Ranked[];
}

export interface Sentiment {
  from?: number;
  to?: number;
  /** Minutes per trend point (the core buckets long windows). */
  bucket_minutes?: number;
  total: number;
  net: number;
  shares: { negative: number; neutral: number; positive: number };
  trend: { t: number; net: number; total: number }[];
}

export interface Stream {
  mentions: StoredMention[];
}

export interface Chart {
  svg: string;
}

export type ViewKind =
  | 'volume'
  | 'sentiment'
  | 'stream'
  // Wall views (src/wall, ui/src/views/registry.ts); issue 6 and 4 build the last three.
  | 'topics'
  | 'top_posts'
  | 'follow_the_sun'
  | 'kpi'
  | 'health'
  | 'highlights'
  | 'tour'
  | 'alerts'
  | 'crisis'
  | 'agent_load';

export interface WallScreen {
  index: number;
  title: string;
  /** Usually view names; objects (`{view, topic?, channel?}`) are accepted too. */
  views: unknown[];
  rotate_seconds: number;
}

export interface WallProfile {
  name: string;
  screens: WallScreen[];
}

export interface Reject {
  id: number;
  source: string;
  line: number;
  reason: string;
  detail: string;
  at: number;
}

export interface Rejects {
  total: number;
  rejects: Reject[];
}

/** Events of the bus; `resync` is also emitted by the HTTP transport after a reconnect. */
/// Event types the UI does not know yet are passed through; views ignore them.
export type SunwardEvent =
  | { type: 'mentions'; count: number; latest: StoredMention[] }
  | { type: 'heartbeat'; now: number }
  | { type: 'resync' }
  | ({ type: 'alert' } & AlertNotice)
  | ({ type: 'wall_control' } & WallControl);

/** `Event::Alert` (src/events.rs). */
export interface AlertNotice {
  id: number;
  kind: string;
  severity: string;
  state: string;
  title: string;
  topic?: string | null;
  channel?: string | null;
  fired_at: number;
  drill: boolean;
}

/** A playlist item of a wall screen (src/wall/profile.rs `Item`). */
export interface WallItem {
  view: string;
  dwell: number;
  topic?: string;
  channel?: string;
  caption?: string;
}

/** `Event::WallControl`: an operator pushed, froze, blacked out or released screens. */
export interface WallControl {
  action: 'push' | 'freeze' | 'blackout' | 'release';
  item?: WallItem;
  profile?: string | null;
  screen?: number | null;
  by: string;
  at: number;
}

/** `view.screen`: what a wall screen shows now. */
export interface ScreenInfo {
  profile: string;
  scene: string | null;
  screen: number;
  screens: number;
  title: string;
  items: WallItem[];
  theme: 'dark' | 'light' | 'contrast';
  zoom: number;
  showcase: boolean;
  captions: string[];
  stale_after_seconds: number;
  takeover_severity: string | null;
  sound: boolean;
  takeover: AlertNotice | null;
  control: WallControl | null;
  fallback: boolean;
  problems: { line: number; field: string; message: string; fix: string; warning: boolean }[];
}
