// Stand-in UI for the desktop smoke test when ui/dist is not built: shows the route, the wall
// window's plan, one dispatch round trip, the event count and whether the CSP blocked inline script.
(function () {
  const $ = (id) => document.getElementById(id);
  const route = location.hash || '#/';
  const m = route.match(/^#\/wall\/(\d+)/);
  document.body.className = m ? 'wall-' + m[1] : 'operator';
  $('route').textContent = m ? 'Wall ' + m[1] : 'Operator';
  const wall = window.__SUNWARD_WALL__;
  $('views').textContent = wall ? wall.title + ': ' + wall.views.join(', ') : route;
  // What hostile text could try: a script element and an event handler added at run time.
  const s = document.createElement('script');
  s.textContent = 'window.__INJECTED_RAN__ = true;';
  document.head.appendChild(s);
  const probe = document.createElement('div');
  probe.innerHTML = '<img src="data:," onerror="window.__HANDLER_RAN__ = true">';
  document.body.appendChild(probe);
  const csp = () => {
    const ran = ['__INLINE_RAN__', '__INJECTED_RAN__', '__HANDLER_RAN__'].filter((k) => window[k]);
    $('csp').textContent = ran.length ? 'CSP: inline script RAN (bad): ' + ran.join(' ') : 'CSP: inline, injected and handler scripts blocked';
  };
  csp();
  setTimeout(csp, 500);
  const t = window.__TAURI_INTERNALS__;
  if (!t) { $('ipc').textContent = 'dispatch: no Tauri IPC'; return; }
  t.invoke('dispatch', { command: 'health', args: {} })
    .then((r) => { $('ipc').textContent = 'dispatch health: ' + JSON.stringify(r); })
    .catch((e) => { $('ipc').textContent = 'dispatch health error: ' + e; });
  let n = 0;
  const handler = t.transformCallback((e) => {
    n += 1;
    $('events').textContent = 'events: ' + n + ' (last: ' + (e.payload && e.payload.type) + ')';
  });
  t.invoke('plugin:event|listen', { event: 'sunward://event', target: { kind: 'Any' }, handler })
    .catch((e) => { $('events').textContent = 'events: listen failed: ' + e; });
})();
