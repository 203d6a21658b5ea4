// Svelte action: hide the children of a scroll-less list that do not fit entirely, so a wall
// never shows a row cut in half. The node must be `position: relative` (offsetTop base).

export function fitRows(node: HTMLElement): { destroy(): void } {
  const apply = () => {
    const limit = node.clientHeight;
    for (const child of Array.from(node.children)) {
      if (!(child instanceof HTMLElement)) continue;
      const fits = child.offsetTop + child.offsetHeight <= limit + 1;
      const v = fits ? '' : 'hidden';
      if (child.style.visibility !== v) child.style.visibility = v;
    }
  };
  const ro = new ResizeObserver(apply);
  ro.observe(node);
  const mo = new MutationObserver(apply);
  mo.observe(node, { childList: true, subtree: true, characterData: true });
  apply();
  return {
    destroy() {
      ro.disconnect();
      mo.disconnect();
    },
  };
}
