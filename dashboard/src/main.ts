import { byId } from './dom.js';
import { connectLine } from './connection.js';
import { summarizeLine } from './health.js';
import { LineStore, type DashboardState } from './line-store.js';
import { AnomaliesView } from './render-anomalies.js';
import { HeaderView } from './render-header.js';
import { TilesView } from './render-tiles.js';

/** Matches the API's STALE_AFTER_MS default: a status older than this is shown stale. */
const STALE_AFTER_MS = 10_000;

const store = new LineStore();
const header = new HeaderView();
const tiles = new TilesView(byId<HTMLOListElement>('tiles'), byId('no-stations'));
const anomalies = new AnomaliesView(byId<HTMLTableSectionElement>('anomaly-rows'), byId('no-anomalies'));

function render(state: DashboardState): void {
  const serverNow = Date.now() + state.serverOffsetMs;
  const connected = state.connection === 'connected';
  header.render(state, summarizeLine(state.stations, serverNow, STALE_AFTER_MS, connected));
  tiles.render(state.stations, serverNow, STALE_AFTER_MS, connected);
  const names = new Map(state.stations.map((v) => [v.meta.station, v.meta.name]));
  anomalies.render(state.anomalies, (station) => names.get(station) ?? station);
}

// Many events can land in one frame; draw once per frame.
let frame = 0;
function scheduleRender(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    render(store.state);
  });
}

store.subscribe(scheduleRender);
// Ages and staleness move with the clock even when no message arrives.
setInterval(scheduleRender, 1_000);
connectLine(store);
render(store.state);
