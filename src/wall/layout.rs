//! The monitor layout: connected monitors + wall profile -> one window plan per monitor.
//! Pure and deterministic; the desktop shell only applies the plan.

use serde::{Deserialize, Serialize};

use super::profile::{merge_items, Item, MissingMonitors, SurplusMonitors, Theme, WallProfile};

/// A connected monitor, in physical pixels of the desktop's coordinate space
/// (what Tauri's `available_monitors()` reports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    pub name: String,
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    pub scale_factor: f64,
}

impl Monitor {
    pub fn new(name: &str, x: i32, y: i32, width: u32, height: u32) -> Monitor {
        Monitor {
            name: name.to_string(),
            x,
            y,
            width,
            height,
            scale_factor: 1.0,
        }
    }

    fn bottom(&self) -> i64 {
        self.y as i64 + self.height as i64
    }

    fn same_rect(&self, other: &Monitor) -> bool {
        (self.x, self.y, self.width, self.height) == (other.x, other.y, other.width, other.height)
    }
}

/// One wall window to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowPlan {
    /// Deterministic window label: `wall-{screen}`.
    pub label: String,
    /// Position of the window in the wall, left to right then top to bottom (0, 1, ...).
    pub screen: usize,
    /// Index of the monitor in the slice given to [`plan`].
    pub monitor_index: usize,
    pub monitor_name: String,
    /// Window rectangle in physical pixels: exactly the monitor's.
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    pub scale_factor: f64,
    pub fullscreen: bool,
    /// UI route, `#/wall/{screen}`.
    pub route: String,
    /// What the window loads: `index.html#/wall/{screen}`.
    pub url: String,
    pub title: String,
    /// Views shown in turn.
    pub views: Vec<String>,
    /// Seconds per view (0 = a single view, no rotation).
    pub rotate_seconds: u32,
    /// Profile screens whose views this window shows (several after a merge; all for `rotate_all`).
    pub profile_screens: Vec<usize>,
    /// What the window shows in turn, each with its dwell (`views` lists their names).
    pub items: Vec<Item>,
    /// Name of the profile the plan was made from.
    pub profile: String,
    pub theme: Theme,
    pub zoom: f64,
    /// Visitor mode (masked, delayed data).
    pub showcase: bool,
}

impl WindowPlan {
    /// True if the window's rectangle lies inside `m`.
    pub fn within(&self, m: &Monitor) -> bool {
        self.x >= m.x
            && self.y >= m.y
            && self.x as i64 + self.width as i64 <= m.x as i64 + m.width as i64
            && self.y as i64 + self.height as i64 <= m.bottom()
    }
}

/// Label of the wall window at position `screen`.
pub fn label(screen: usize) -> String {
    format!("wall-{screen}")
}

/// Indices of the usable monitors in wall order.
///
/// Rows first: monitors whose vertical extents overlap by at least half the smaller height
/// form a row (so a taller monitor beside a shorter one stays in the same row), rows top to
/// bottom, monitors in a row left to right. Monitors without area are skipped; monitors with
/// exactly the same rectangle (mirrored outputs) count once.
pub fn order(monitors: &[Monitor]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..monitors.len())
        .filter(|&i| monitors[i].width > 0 && monitors[i].height > 0)
        .collect();
    let key = |i: &usize| {
        let m = &monitors[*i];
        (m.y, m.x, m.name.clone(), m.width, m.height, *i)
    };
    idx.sort_by_key(key);
    // Mirrors: keep the first of each identical rectangle.
    let mut unique: Vec<usize> = Vec::with_capacity(idx.len());
    for i in idx {
        if !unique.iter().any(|&u| monitors[u].same_rect(&monitors[i])) {
            unique.push(i);
        }
    }

    struct Row {
        top: i64,
        bottom: i64,
        min_height: i64,
        members: Vec<usize>,
    }
    let mut rows: Vec<Row> = Vec::new();
    for i in unique {
        let m = &monitors[i];
        let (top, bottom, h) = (m.y as i64, m.bottom(), m.height as i64);
        let row = rows.iter_mut().find(|r| {
            let overlap = bottom.min(r.bottom) - top.max(r.top);
            overlap > 0 && overlap * 2 >= h.min(r.min_height)
        });
        match row {
            Some(r) => {
                r.top = r.top.min(top);
                r.bottom = r.bottom.max(bottom);
                r.min_height = r.min_height.min(h);
                r.members.push(i);
            }
            None => rows.push(Row {
                top,
                bottom,
                min_height: h,
                members: vec![i],
            }),
        }
    }
    rows.sort_by_key(|r| r.top);
    rows.into_iter()
        .flat_map(|mut r| {
            r.members.sort_by_key(|&i| {
                let m = &monitors[i];
                (m.x, m.y, m.name.clone(), i)
            });
            r.members
        })
        .collect()
}

/// The wall: one fullscreen window per connected monitor.
///
/// - Screens that name a `monitor` get that monitor when it is connected. The other screens
///   take the other monitors in [`order`], by screen index (so without names, monitor `k`
///   shows profile screen `k`).
/// - Fewer monitors than screens (`missing = "merge"`): the screens left over join the
///   rotations of the shown screens round robin (the first left over joins the first window,
///   and so on); items already in that rotation are not repeated.
///   (`missing = "drop"`: they are not shown.)
/// - More monitors than screens (`surplus = "rotate_all"`): each extra monitor rotates through
///   all views of the profile. (`surplus = "none"`: no window there.)
/// - No monitors: no windows.
///
/// Each window covers exactly its monitor (physical pixels), so it never leaves its bounds.
pub fn plan(monitors: &[Monitor], profile: &WallProfile) -> Vec<WindowPlan> {
    let ordered = order(monitors);
    // Position (in `ordered`) -> the profile screen it shows.
    let mut primary: Vec<Option<usize>> = vec![None; ordered.len()];
    let mut placed = vec![false; profile.screens.len()];
    for (si, s) in profile.screens.iter().enumerate() {
        let Some(name) = &s.monitor else { continue };
        if let Some(pos) = ordered
            .iter()
            .position(|&mi| &monitors[mi].name == name)
            .filter(|&pos| primary[pos].is_none())
        {
            primary[pos] = Some(si);
            placed[si] = true;
        }
    }
    let free: Vec<usize> = (0..ordered.len())
        .filter(|&p| primary[p].is_none())
        .collect();
    let mut free = free.into_iter();
    for (si, done) in placed.iter_mut().enumerate() {
        if *done {
            continue;
        }
        match free.next() {
            Some(pos) => {
                primary[pos] = Some(si);
                *done = true;
            }
            None => break,
        }
    }
    let leftover: Vec<usize> = (0..profile.screens.len())
        .filter(|&si| !placed[si])
        .collect();
    let shown: Vec<usize> = (0..ordered.len())
        .filter(|&p| primary[p].is_some())
        .collect();

    let mut out = Vec::with_capacity(ordered.len());
    for (pos, &mi) in ordered.iter().enumerate() {
        let (title, items, rotate_seconds, profile_screens, screen_cfg) = match primary[pos] {
            Some(si) => {
                let own = &profile.screens[si];
                let mut items = own.items(profile.rotate_seconds);
                let mut rotate = own.rotate_seconds;
                let mut from = vec![own.index];
                if profile.monitors.missing == MissingMonitors::Merge && !shown.is_empty() {
                    let slot = shown.iter().position(|&p| p == pos).unwrap_or(0);
                    for (i, &extra) in leftover.iter().enumerate() {
                        if i % shown.len() != slot {
                            continue;
                        }
                        let e = &profile.screens[extra];
                        from.push(e.index);
                        merge_items(&mut items, e.items(profile.rotate_seconds));
                    }
                }
                if items.len() > 1 && rotate == 0 {
                    rotate = profile.rotate_seconds;
                }
                let title = if from.len() > 1 {
                    from.iter()
                        .map(|&i| profile.screens[i].title.as_str())
                        .filter(|t| !t.is_empty())
                        .collect::<Vec<_>>()
                        .join(" + ")
                } else {
                    own.title.clone()
                };
                (title, items, rotate, from, Some(own))
            }
            None => match profile.monitors.surplus {
                SurplusMonitors::None => continue,
                SurplusMonitors::RotateAll => {
                    let items = profile.all_items();
                    let rotate = if items.len() > 1 {
                        profile.rotate_seconds
                    } else {
                        0
                    };
                    let from = profile.screens.iter().map(|s| s.index).collect();
                    ("All views".to_string(), items, rotate, from, None)
                }
            },
        };
        let m = &monitors[mi];
        let screen = out.len();
        let route = format!("#/wall/{screen}");
        out.push(WindowPlan {
            label: label(screen),
            screen,
            monitor_index: mi,
            monitor_name: m.name.clone(),
            x: m.x,
            y: m.y,
            width: m.width,
            height: m.height,
            scale_factor: m.scale_factor,
            fullscreen: true,
            url: format!("index.html{route}"),
            route,
            title,
            views: items
                .iter()
                .map(|i| i.view.clone())
                .fold(Vec::new(), |mut v, x| {
                    if !v.contains(&x) {
                        v.push(x);
                    }
                    v
                }),
            rotate_seconds,
            items,
            profile_screens,
            profile: profile.name.clone(),
            theme: screen_cfg.and_then(|s| s.theme).unwrap_or(profile.theme),
            zoom: screen_cfg.and_then(|s| s.zoom).unwrap_or(profile.zoom),
            showcase: screen_cfg.is_some_and(|s| s.showcase),
        });
    }
    out
}

/// Screens whose named monitor is not among `monitors` (they fall back to index order):
/// `(screen index, monitor name)`.
pub fn missing_monitors(monitors: &[Monitor], profile: &WallProfile) -> Vec<(usize, String)> {
    profile
        .screens
        .iter()
        .filter_map(|s| {
            let name = s.monitor.as_ref()?;
            (!monitors.iter().any(|m| &m.name == name)).then(|| (s.index, name.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wall::profile::{MonitorPolicy, Screen};

    const W: u32 = 1920;
    const H: u32 = 1080;

    /// `n` 1920x1080 monitors side by side, named like the virtual wall's outputs.
    fn row(n: usize) -> Vec<Monitor> {
        (0..n)
            .map(|i| Monitor::new(&format!("DUMMY{i}"), (i as u32 * W) as i32, 0, W, H))
            .collect()
    }

    fn views(p: &WindowPlan) -> Vec<&str> {
        p.views.iter().map(String::as_str).collect()
    }

    fn monitors_of(plan: &[WindowPlan]) -> Vec<&str> {
        plan.iter().map(|p| p.monitor_name.as_str()).collect()
    }

    /// Invariants every plan keeps: labels `wall-0..`, routes, fullscreen, within its monitor,
    /// at most one window per monitor.
    fn check(monitors: &[Monitor], plan: &[WindowPlan]) {
        for (k, p) in plan.iter().enumerate() {
            assert_eq!(p.label, format!("wall-{k}"));
            assert_eq!(p.screen, k);
            assert_eq!(p.route, format!("#/wall/{k}"));
            assert_eq!(p.url, format!("index.html#/wall/{k}"));
            assert!(p.fullscreen);
            assert!(!p.views.is_empty());
            let m = &monitors[p.monitor_index];
            assert_eq!(p.monitor_name, m.name);
            assert!(p.within(m), "{p:?} outside {m:?}");
            assert_eq!((p.width, p.height), (m.width, m.height));
            assert!(p.views.len() == 1 || p.rotate_seconds > 0);
        }
        let mut used: Vec<usize> = plan.iter().map(|p| p.monitor_index).collect();
        used.sort();
        used.dedup();
        assert_eq!(used.len(), plan.len(), "two windows on one monitor");
    }

    fn plan_checked(monitors: &[Monitor], profile: &WallProfile) -> Vec<WindowPlan> {
        let p = plan(monitors, profile);
        check(monitors, &p);
        p
    }

    fn profile(screens: &[&[&str]]) -> WallProfile {
        WallProfile {
            name: "test".into(),
            rotate_seconds: 15,
            monitors: MonitorPolicy::default(),
            screens: screens
                .iter()
                .enumerate()
                .map(|(i, v)| Screen {
                    index: i,
                    title: format!("S{i}"),
                    views: v.iter().map(|s| s.to_string()).collect(),
                    rotate_seconds: 0,
                    ..Default::default()
                })
                .collect(),
            ..WallProfile::default()
        }
    }

    #[test]
    fn zero_monitors_give_an_empty_plan() {
        assert!(plan(&[], &WallProfile::default()).is_empty());
    }

    #[test]
    fn one_monitor_rotates_through_every_screen() {
        let p = plan_checked(&row(1), &WallProfile::default());
        assert_eq!(p.len(), 1);
        assert_eq!(views(&p[0]), ["volume", "sentiment", "stream"]);
        assert_eq!(p[0].rotate_seconds, 20);
        assert_eq!(p[0].profile_screens, [0, 1, 2]);
        assert_eq!(p[0].title, "Volume + Sentiment + Live stream");
        assert_eq!((p[0].x, p[0].y, p[0].width, p[0].height), (0, 0, W, H));
    }

    #[test]
    fn two_monitors_merge_the_third_screen_round_robin() {
        let p = plan_checked(&row(2), &WallProfile::default());
        assert_eq!(p.len(), 2);
        assert_eq!(views(&p[0]), ["volume", "stream"]);
        assert_eq!(p[0].rotate_seconds, 20);
        assert_eq!(views(&p[1]), ["sentiment"]);
        assert_eq!(p[1].rotate_seconds, 0);
        assert_eq!(p[1].title, "Sentiment");
        assert_eq!((p[1].x, p[1].y), (1920, 0));
    }

    #[test]
    fn merging_spreads_over_all_remaining_screens_and_skips_repeats() {
        let prof = profile(&[&["a"], &["b"], &["c", "a"], &["d"], &["e"]]);
        let p = plan_checked(&row(2), &prof);
        // screens 2 and 4 -> monitor 0, screen 3 -> monitor 1; "a" is not repeated
        assert_eq!(views(&p[0]), ["a", "c", "e"]);
        assert_eq!(views(&p[1]), ["b", "d"]);
        assert_eq!(p[0].profile_screens, [0, 2, 4]);
        assert_eq!(p[1].profile_screens, [1, 3]);
        assert_eq!(p[0].rotate_seconds, 15);
    }

    #[test]
    fn a_screen_keeps_its_own_rotation_period_when_merged() {
        let mut prof = profile(&[&["a", "b"], &["c"]]);
        prof.screens[0].rotate_seconds = 7;
        let p = plan_checked(&row(1), &prof);
        assert_eq!(views(&p[0]), ["a", "b", "c"]);
        assert_eq!(p[0].rotate_seconds, 7);
    }

    #[test]
    fn missing_drop_shows_only_the_first_screens() {
        let mut prof = WallProfile::default();
        prof.monitors.missing = MissingMonitors::Drop;
        let p = plan_checked(&row(2), &prof);
        assert_eq!(views(&p[0]), ["volume"]);
        assert_eq!(views(&p[1]), ["sentiment"]);
    }

    #[test]
    fn three_monitors_one_screen_each() {
        let p = plan_checked(&row(3), &WallProfile::default());
        let got: Vec<_> = p.iter().map(|w| views(w)).collect();
        assert_eq!(got, [["volume"], ["sentiment"], ["stream"]]);
        assert_eq!(monitors_of(&p), ["DUMMY0", "DUMMY1", "DUMMY2"]);
        assert!(p.iter().all(|w| w.profile_screens == [w.screen]));
    }

    #[test]
    fn eight_monitors_extra_ones_rotate_all_views() {
        let p = plan_checked(&row(8), &WallProfile::default());
        assert_eq!(p.len(), 8);
        assert_eq!(views(&p[2]), ["stream"]);
        for w in &p[3..] {
            assert_eq!(views(w), ["volume", "sentiment", "stream"]);
            assert_eq!(w.rotate_seconds, 20);
            assert_eq!(w.title, "All views");
            assert_eq!(w.profile_screens, [0, 1, 2]);
        }
        assert_eq!(p[7].x, 7 * 1920);
    }

    #[test]
    fn surplus_none_leaves_extra_monitors_alone() {
        let mut prof = WallProfile::default();
        prof.monitors.surplus = SurplusMonitors::None;
        let p = plan_checked(&row(5), &prof);
        assert_eq!(p.len(), 3);
        assert_eq!(monitors_of(&p), ["DUMMY0", "DUMMY1", "DUMMY2"]);
    }

    #[test]
    fn unplugging_the_middle_monitor_replans_the_rest() {
        let mut monitors = row(3);
        monitors.remove(1);
        let p = plan_checked(&monitors, &WallProfile::default());
        assert_eq!(p.len(), 2);
        assert_eq!(monitors_of(&p), ["DUMMY0", "DUMMY2"]);
        assert_eq!(p[0].label, "wall-0");
        assert_eq!(p[1].label, "wall-1");
        assert_eq!((p[1].x, p[1].y), (3840, 0));
        assert_eq!(views(&p[0]), ["volume", "stream"]);
        assert_eq!(views(&p[1]), ["sentiment"]);
        // Plugging it back restores the original plan exactly.
        assert_eq!(
            plan(&row(3), &WallProfile::default()),
            plan_checked(&row(3), &WallProfile::default())
        );
    }

    #[test]
    fn input_order_does_not_matter() {
        let mut shuffled = row(4);
        shuffled.reverse();
        shuffled.swap(0, 2);
        let a = plan(&row(4), &WallProfile::default());
        let b = plan_checked(&shuffled, &WallProfile::default());
        let strip = |p: &[WindowPlan]| -> Vec<(String, String, i32, Vec<String>)> {
            p.iter()
                .map(|w| {
                    (
                        w.label.clone(),
                        w.monitor_name.clone(),
                        w.x,
                        w.views.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(strip(&a), strip(&b));
    }

    #[test]
    fn mixed_sizes_in_one_row_go_left_to_right() {
        // A 4K monitor whose top is higher than the 1080p one beside it (bottoms aligned),
        // and a small one on the left at a negative x.
        let monitors = vec![
            Monitor::new("big", 1920, -1080, 3840, 2160),
            Monitor::new("main", 0, 0, 1920, 1080),
            Monitor::new("left", -1280, 56, 1280, 1024),
        ];
        let p = plan_checked(&monitors, &WallProfile::default());
        assert_eq!(monitors_of(&p), ["left", "main", "big"]);
        assert_eq!(
            (p[0].x, p[0].y, p[0].width, p[0].height),
            (-1280, 56, 1280, 1024)
        );
        assert_eq!(
            (p[2].x, p[2].y, p[2].width, p[2].height),
            (1920, -1080, 3840, 2160)
        );
    }

    #[test]
    fn vertical_stacking_goes_top_to_bottom() {
        let monitors = vec![
            Monitor::new("bottom", 0, 1080, 1920, 1080),
            Monitor::new("top", 0, 0, 1920, 1080),
        ];
        let p = plan_checked(&monitors, &WallProfile::default());
        assert_eq!(monitors_of(&p), ["top", "bottom"]);
        assert_eq!(p[1].y, 1080);
    }

    #[test]
    fn a_two_by_two_grid_is_read_row_by_row() {
        let monitors = vec![
            Monitor::new("br", 1920, 1080, 1920, 1080),
            Monitor::new("bl", 0, 1080, 1920, 1080),
            Monitor::new("tr", 1920, 0, 1920, 1080),
            Monitor::new("tl", 0, 0, 1920, 1080),
        ];
        let p = plan_checked(&monitors, &WallProfile::default());
        assert_eq!(monitors_of(&p), ["tl", "tr", "bl", "br"]);
    }

    #[test]
    fn scale_factors_do_not_change_the_physical_rectangle() {
        let monitors = vec![
            Monitor {
                scale_factor: 2.0,
                ..Monitor::new("hidpi", 0, 0, 3840, 2160)
            },
            Monitor {
                scale_factor: 1.25,
                ..Monitor::new("laptop", 3840, 0, 2560, 1600)
            },
        ];
        let p = plan_checked(&monitors, &WallProfile::default());
        assert_eq!(
            (p[0].width, p[0].height, p[0].scale_factor),
            (3840, 2160, 2.0)
        );
        assert_eq!((p[1].x, p[1].width, p[1].scale_factor), (3840, 2560, 1.25));
    }

    #[test]
    fn monitors_without_area_and_mirrors_get_no_window() {
        let mut monitors = row(2);
        monitors.push(Monitor::new("off", 3840, 0, 0, 0));
        monitors.push(Monitor::new("mirror-of-0", 0, 0, W, H));
        let p = plan_checked(&monitors, &WallProfile::default());
        assert_eq!(monitors_of(&p), ["DUMMY0", "DUMMY1"]);
    }

    #[test]
    fn plans_are_deterministic() {
        let a = plan(&row(6), &WallProfile::default());
        let b = plan(&row(6), &WallProfile::default());
        assert_eq!(a, b);
        let json = serde_json::to_value(&a[0]).unwrap();
        assert_eq!(json["label"], "wall-0");
        assert_eq!(json["url"], "index.html#/wall/0");
        assert_eq!(json["fullscreen"], true);
    }

    fn six() -> WallProfile {
        let text = crate::wall::registry::BUILT_IN
            .iter()
            .find(|(n, _)| *n == "six-screen")
            .unwrap()
            .1;
        WallProfile::from_toml(text).unwrap()
    }

    /// The six-screen example's monitors: two rows of three, named as in the profile.
    fn grid6() -> Vec<Monitor> {
        let names = ["DP-1", "DP-2", "DP-3", "HDMI-1", "HDMI-2", "HDMI-3"];
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                Monitor::new(
                    n,
                    (i as u32 % 3 * W) as i32,
                    (i as u32 / 3 * H) as i32,
                    W,
                    H,
                )
            })
            .collect()
    }

    #[test]
    fn screens_go_to_their_named_monitors() {
        let mut prof = profile(&[&["a"], &["b"], &["c"]]);
        prof.screens[0].monitor = Some("DUMMY2".into());
        prof.screens[2].monitor = Some("DUMMY0".into());
        let p = plan_checked(&row(3), &prof);
        let got: Vec<_> = p
            .iter()
            .map(|w| (w.monitor_name.as_str(), views(w)))
            .collect();
        assert_eq!(
            got,
            [
                ("DUMMY0", vec!["c"]),
                ("DUMMY1", vec!["b"]),
                ("DUMMY2", vec!["a"])
            ]
        );
    }

    #[test]
    fn a_named_monitor_that_is_missing_falls_back_to_index_order() {
        let mut prof = profile(&[&["a"], &["b"], &["c"]]);
        prof.screens[1].monitor = Some("HDMI-9".into());
        let p = plan_checked(&row(3), &prof);
        let got: Vec<_> = p.iter().map(|w| views(w)).collect();
        assert_eq!(got, [["a"], ["b"], ["c"]]);
        assert_eq!(
            missing_monitors(&row(3), &prof),
            [(1, "HDMI-9".to_string())]
        );
    }

    #[test]
    fn six_screen_example_fills_a_two_by_three_grid() {
        let prof = six();
        let monitors = grid6();
        let p = plan_checked(&monitors, &prof);
        assert_eq!(p.len(), 6);
        assert!(missing_monitors(&monitors, &prof).is_empty());
        assert_eq!(
            monitors_of(&p),
            ["DP-1", "DP-2", "DP-3", "HDMI-1", "HDMI-2", "HDMI-3"]
        );
        assert_eq!(views(&p[2]), ["topics", "top_posts"]);
        let dwell: Vec<u32> = p[2].items.iter().map(|i| i.dwell).collect();
        assert_eq!(dwell, [30, 20]);
        assert_eq!(p[3].zoom, 1.15);
        assert_eq!(p[3].y, 1080);
        // Shuffled names: the screens follow their monitors, not the positions.
        let mut swapped = grid6();
        swapped[0].name = "DP-3".into();
        swapped[2].name = "DP-1".into();
        let p = plan_checked(&swapped, &prof);
        assert_eq!(views(&p[0]), ["topics", "top_posts"]);
        assert_eq!(views(&p[2]), ["volume"]);
    }

    #[test]
    fn unplugging_a_named_monitor_merges_its_playlist_with_dwells() {
        let prof = six();
        let mut monitors = grid6();
        monitors.remove(2); // DP-3 (topics/top_posts) is gone
        let p = plan_checked(&monitors, &prof);
        assert_eq!(p.len(), 5);
        // The left-over screen 2 joins the first window's rotation, keeping its dwells.
        assert_eq!(views(&p[0]), ["volume", "topics", "top_posts"]);
        let dwell: Vec<u32> = p[0].items.iter().map(|i| i.dwell).collect();
        assert_eq!(dwell, [20, 30, 20]);
        assert_eq!(p[0].profile_screens, [0, 2]);
        // Plugged back: the original plan.
        assert_eq!(plan(&grid6(), &prof), plan(&grid6(), &prof));
        assert_eq!(views(&plan(&grid6(), &prof)[0]), ["volume"]);
    }

    #[test]
    fn the_scene_in_force_decides_the_plan() {
        use chrono::TimeZone;
        let prof = six();
        // Wed 2026-01-14 22:00 local (21:00 UTC): the night scene.
        let night = prof.at(chrono::Utc.with_ymd_and_hms(2026, 1, 14, 21, 0, 0).unwrap());
        assert_eq!(night.active_scene.as_deref(), Some("night"));
        let p = plan_checked(&grid6(), &night);
        assert_eq!(views(&p[1]), ["stream"]);
        assert_eq!(p[1].zoom, 1.25);
        // Sat: weekend, screen 0 rotates two views at 30 s in high contrast.
        let weekend = prof.at(chrono::Utc.with_ymd_and_hms(2026, 1, 17, 12, 0, 0).unwrap());
        let p = plan_checked(&grid6(), &weekend);
        assert_eq!(views(&p[0]), ["volume", "sentiment"]);
        assert_eq!(p[0].rotate_seconds, 30);
        assert_eq!(p[0].theme, Theme::Contrast);
    }

    #[test]
    fn showcase_flag_and_profile_name_reach_the_window() {
        let text = crate::wall::registry::BUILT_IN
            .iter()
            .find(|(n, _)| *n == "lobby")
            .unwrap()
            .1;
        let prof = WallProfile::from_toml(text).unwrap();
        let p = plan_checked(&row(2), &prof);
        assert!(p.iter().all(|w| w.showcase && w.profile == "lobby"));
        assert_eq!(p[0].theme, Theme::Light);
        assert_eq!(
            p[0].items[0].caption.as_deref(),
            Some("What you see is our social customer care center, live.")
        );
    }
}
