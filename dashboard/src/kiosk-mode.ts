import type { StationView } from '@linewatch/protocol';
import { byId, setText } from './dom.js';
import { t } from './i18n.js';
import { kioskStation } from './kiosk.js';
import type { DashboardState, StationSelection } from './line-store.js';

/**
 * The wall screen's hands-free mode (`?kiosk`): no controls; the station view shows each station in turn while the
 * line runs unmanned, and holds on the neediest one while anything needs a person.
 */
export class KioskMode {
  private readonly note = byId('kiosk-note');

  constructor(
    private readonly cycleMs: number,
    private readonly show: (selection: StationSelection) => void,
  ) {
    this.note.hidden = false;
  }

  render(state: DashboardState, stations: StationView[], serverNow: number): void {
    const line = state.view === 'replay' ? state.replay.status?.line : state.line;
    if (!line || state.connection !== 'connected') return;
    // The same alerts the header counts: open, not muted, of the line shown (the replay line's say nothing of the fab).
    const alerting = new Set(state.alerts.filter((a) => a.line === line && !a.muted && (a.state === 'firing' || a.state === 'acknowledged')).map((a) => a.station));
    const pick = kioskStation(stations, serverNow, state.view === 'replay' ? Number.POSITIVE_INFINITY : state.staleAfterMs, this.cycleMs, alerting);
    if (pick.station === null) return;
    if (state.selected?.line !== line || state.selected.station !== pick.station || state.window.kind !== 'live') this.show({ line, station: pick.station });
    const name = stations.find((v) => v.meta.station === pick.station)?.meta.name ?? pick.station;
    setText(this.note, pick.pinned ? t('kiosk.pinned') : t('kiosk.cycling', { station: name, seconds: Math.ceil(pick.nextInMs / 1_000) }));
  }
}
