import { AlertAck } from './alert-ack.js';
import { byId } from './dom.js';
import { connectLine } from './connection.js';
import { summarizeLine } from './health.js';
import { LineStore, reduce, type DashboardState, type StationSelection } from './line-store.js';
import { AlertPanelView } from './render-alerts.js';
import { AnomaliesView } from './render-anomalies.js';
import { HeaderView } from './render-header.js';
import { ReplayBannerView } from './render-replay-banner.js';
import { StationPanel } from './render-station.js';
import { TilesView } from './render-tiles.js';
import { RebaselineControl } from './rebaseline.js';
import { ReplayPanel } from './replay-panel.js';
import { fragmentWithStation, stationFromFragment } from './station-link.js';
import { TokenPrompt } from './token-prompt.js';
import { takeTokenFromFragment } from './token.js';

/** Matches the API's STALE_AFTER_MS default: a status older than this is shown stale. */
const STALE_AFTER_MS = 10_000;

// A token in the URL (`npm start` prints one) moves to this tab's storage and out of the address bar at once.
const fragment = takeTokenFromFragment(location.hash, sessionStorage);
if (fragment !== null) history.replaceState(history.state, '', `${location.pathname}${location.search}${fragment ? `#${fragment}` : ''}`);

const store = new LineStore();
const header = new HeaderView();
const replayBanner = new ReplayBannerView();

/** Opens (or closes, with null) a station's view, and keeps the URL fragment saying which, for links. */
function select(selected: StationSelection | null): void {
  store.update((s) => reduce.select(s, selected));
  const fragment = fragmentWithStation(location.hash, selected);
  history.replaceState(history.state, '', `${location.pathname}${location.search}${fragment ? `#${fragment}` : ''}`);
}

const tiles = new TilesView(byId<HTMLOListElement>('tiles'), byId('no-stations'), (line, station) => {
  const open = store.state.selected;
  // A second click on the open station closes its view.
  select(open?.line === line && open.station === station ? null : { line, station });
});
const anomalies = new AnomaliesView(byId<HTMLTableSectionElement>('anomaly-rows'), byId('no-anomalies'));
// One token for the tab, one form to give it, whichever control needs it.
const tokens = new TokenPrompt(sessionStorage, () => scheduleRender(), (text) => panel.tokenNotice(text));
const panel = new ReplayPanel(tokens, () => scheduleRender());
const alertPanel = new AlertPanelView(new AlertAck(tokens, localStorage, () => scheduleRender()), () => scheduleRender());
const stationPanel = new StationPanel(new RebaselineControl(tokens, () => scheduleRender()), () => select(null));

function render(state: DashboardState): void {
  const serverNow = Date.now() + state.serverOffsetMs;
  const connected = state.connection === 'connected';
  const replayView = state.view === 'replay';
  const stations = replayView ? state.replay.stations : state.stations;
  const shown = replayView ? state.replay.anomalies : state.anomalies;
  // The replay line's data clock is not the wall clock, so its staleness is left to the detector (OFFLINE).
  header.render(state, summarizeLine(stations, serverNow, replayView ? Number.POSITIVE_INFINITY : STALE_AFTER_MS, connected, replayView));
  replayBanner.render(state);
  panel.render(state);
  tokens.render();
  const wafers = replayView ? state.replay.wafers : state.wafers;
  const lineShown = replayView ? state.replay.status?.line : state.line;
  const selectedHere = state.selected !== null && state.selected.line === lineShown ? state.selected.station : null;
  tiles.render(stations, serverNow, STALE_AFTER_MS, connected, state.view, wafers, selectedHere);
  stationPanel.render(state, serverNow);
  const names = new Map(stations.map((v) => [v.meta.station, v.meta.name]));
  anomalies.render(shown, (station) => names.get(station) ?? station);
  // Alerts of both lines show in either view (replayed ones say so), so names come from both.
  const lineNames = new Map([...state.stations, ...state.replay.stations].map((v) => [`${v.meta.line}/${v.meta.station}`, v.meta.name]));
  alertPanel.render(state, serverNow, (line, station) => lineNames.get(`${line}/${station}`) ?? station);
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

// A `#station=line/station` link (a webhook's stationURL, a bookmark) opens that station's view.
store.update((s) => reduce.select(s, stationFromFragment(location.hash)));
window.addEventListener('hashchange', () => store.update((s) => reduce.select(s, stationFromFragment(location.hash))));

byId('view-live').addEventListener('click', () => store.update((s) => reduce.view(s, 'live')));
byId('view-replay').addEventListener('click', () => store.update((s) => reduce.view(s, 'replay')));

store.subscribe(scheduleRender);
// Ages and staleness move with the clock even when no message arrives.
setInterval(scheduleRender, 1_000);
connectLine(store);
void panel.loadRecordings();
render(store.state);
