/**
 * Keyboard use of the page: arrow keys move between station tiles (up and down by a row of the grid), Enter or
 * Space opens one (the tile handles it), Escape closes the station view. Keys typed into a field are left alone.
 */
export function installKeyboard(tiles: HTMLElement, close: () => void): void {
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement | null;
    if (target && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName))) return;
    if (event.key === 'Escape') {
      close();
      return;
    }
    if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(event.key)) return;
    const all = [...tiles.querySelectorAll<HTMLElement>('[data-testid="station-tile"]')];
    const index = all.indexOf(document.activeElement as HTMLElement);
    if (index < 0) return;
    const top = all[0]?.offsetTop ?? 0;
    const perRow = Math.max(1, all.filter((tile) => tile.offsetTop === top).length);
    const step = event.key === 'ArrowLeft' ? -1 : event.key === 'ArrowRight' ? 1 : event.key === 'ArrowUp' ? -perRow : perRow;
    const next = all[Math.min(all.length - 1, Math.max(0, index + step))];
    if (!next) return;
    event.preventDefault();
    next.focus();
  });
}
