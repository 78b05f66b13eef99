import { AlertAck } from './alert-ack.js';
import { historyApi } from './api-client.js';
import { openAlerts } from './attention.js';
import { byId } from './dom.js';
import { StationWatch, connectLine } from './connection.js';
import { monitorTrouble, summarizeLine } from './health.js';
import { applyStaticTexts, isLang, setLanguage } from './i18n.js';
import { installKeyboard } from './keyboard.js';
import { KioskMode } from './kiosk-mode.js';
import { LineStore, reduce, type DashboardState, type StationSelection } from './line-store.js';
import { readSettings, storeLanguage, storeTheme, type Theme } from './page-settings.js';
import { RangePicker } from './range-picker.js';
import { AlertPanelView } from './render-alerts.js';
import { AnomaliesView } from './render-anomalies.js';
import { HeaderView } from './render-header.js';
import { ReplayBannerView } from './render-replay-banner.js';
import { StationPanel } from './render-station.js';
import { TilesView } from './render-tiles.js';
import { RebaselineControl } from './rebaseline.js';
import { ReplayPanel } from './replay-panel.js';
import { SPARK_SPAN_MS, ScoreHistory } from './score-history.js';
import { StationCharts } from './station-charts.js';
import { StationFeed } from './station-feed.js';
import { fragmentWithStation, stationFromFragment } from './station-link.js';
import { fragmentWithWindow, windowAround, windowFromFragment, type TimeWindow } from './time-window.js';
import { TokenPrompt } from './token-prompt.js';
import { takeTokenFromFragment } from './token.js';

// A token in the URL (`npm start` prints one) moves to this tab's storage and out of the address bar at once.
const fragment = takeTokenFromFragment(location.hash, sessionStorage);
if (fragment !== null) history.replaceState(history.state, '', `${location.pathname}${location.search}${fragment ? `#${fragment}` : ''}`);

const settings = readSettings(location.search, localStorage, navigator.language);
setLanguage(settings.lang);
applyTheme(settings.theme);
document.body.classList.toggle('kiosk', settings.kiosk);
document.documentElement.classList.toggle('kiosk', settings.kiosk);
applyStaticTexts();

const store = new LineStore();
const header = new HeaderView();
const replayBanner = new ReplayBannerView();
const scores = new ScoreHistory();

/** Opens (or closes, with null) a station's view, and keeps the URL fragment saying which and when, for links. */
function select(selected: StationSelection | null, window?: TimeWindow): void {
  store.update((s) => reduce.select(s, selected, window));
  writeFragment();
}

function chooseWindow(window: TimeWindow): void {
  store.update((s) => reduce.window(s, window));
  writeFragment();
}

function writeFragment(): void {
  const { selected, window } = store.state;
  const fragment = fragmentWithWindow(fragmentWithStation(location.hash, selected), selected ? window : { kind: 'live' });
  history.replaceState(history.state, '', `${location.pathname}${location.search}${fragment ? `#${fragment}` : ''}`);
}

const tiles = new TilesView(
  byId<HTMLOListElement>('tiles'),
  byId('no-stations'),
  (line, station) => {
    const open = store.state.selected;
    // A second click on the open station closes its view.
    select(open?.line === line && open.station === station ? null : { line, station });
  },
  scores,
);
const anomalies = new AnomaliesView(byId<HTMLTableSectionElement>('anomaly-rows'), byId('no-anomalies'), (anomaly) => {
  const now = Date.now() + store.state.serverOffsetMs;
  select({ line: anomaly.line, station: anomaly.station }, windowAround(anomaly.ts, anomaly.ts, now));
  store.update((s) => reduce.choose(s, anomaly.id));
});
// One token for the tab, one form to give it, whichever control needs it.
const tokens = new TokenPrompt(sessionStorage, () => scheduleRender(), (text) => panel.tokenNotice(text));
const panel = new ReplayPanel(tokens, () => scheduleRender());
const alertPanel = new AlertPanelView(
  new AlertAck(tokens, localStorage, () => scheduleRender()),
  () => scheduleRender(),
  (alert) => {
    const now = Date.now() + store.state.serverOffsetMs;
    select({ line: alert.line, station: alert.station }, windowAround(alert.firingAt ?? alert.startedAt, alert.resolvedAt, now));
  },
);
const charts = new StationCharts(byId('station-charts'), (id) => store.update((s) => reduce.choose(s, id)));
const feed = new StationFeed(charts, () => scheduleRender(), historyApi.station, () => Date.now() + store.state.serverOffsetMs);
const picker = new RangePicker(chooseWindow);
const stationPanel = new StationPanel(
  new RebaselineControl(tokens, () => scheduleRender()),
  () => select(null),
  feed,
  picker,
  () => store.update((s) => reduce.choose(s, null)),
);
const kiosk = settings.kiosk ? new KioskMode(settings.cycleSeconds * 1_000, (station) => select(station)) : null;

function render(state: DashboardState): void {
  const serverNow = Date.now() + state.serverOffsetMs;
  const connected = state.connection === 'connected';
  const replayView = state.view === 'replay';
  const stations = replayView ? state.replay.stations : state.stations;
  const shown = replayView ? state.replay.anomalies : state.anomalies;
  // The replay line's data clock is not the wall clock, so its staleness is left to the detector (OFFLINE).
  const alerts = replayView ? { open: 0, critical: 0 } : openAlerts(state.alerts, state.line);
  // The detectors' health is about the live line; the replay line is scored by the same detectors, but its status
  // word says how the replayed data scored, not whether the fab is watched.
  const monitor = replayView ? { offline: [], degraded: [] } : monitorTrouble(state.services);
  const summary = summarizeLine(stations, serverNow, replayView ? Number.POSITIVE_INFINITY : state.staleAfterMs, connected, replayView, alerts, monitor);
  header.render(state, summary, serverNow);
  replayBanner.render(state);
  panel.render(state);
  tokens.render();
  const wafers = replayView ? state.replay.wafers : state.wafers;
  const lineShown = replayView ? state.replay.status?.line : state.line;
  const selectedHere = state.selected !== null && state.selected.line === lineShown ? state.selected.station : null;
  tiles.render(stations, serverNow, state.staleAfterMs, connected, state.view, wafers, selectedHere);
  stationPanel.render(state, serverNow);
  watch.set(state.selected && state.window.kind === 'live' ? state.selected : null);
  const names = new Map(stations.map((v) => [v.meta.station, v.meta.name]));
  anomalies.render(shown, (station) => names.get(station) ?? station);
  // Alerts of both lines show in either view (replayed ones say so), so names come from both.
  const lineNames = new Map([...state.stations, ...state.replay.stations].map((v) => [`${v.meta.line}/${v.meta.station}`, v.meta.name]));
  alertPanel.render(state, serverNow, (line, station) => lineNames.get(`${line}/${station}`) ?? station);
  kiosk?.render(state, stations, serverNow);
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

/** After a (re)connect: the sparklines' missed minutes, and the open station view's window, from the API. */
function catchUp(): void {
  const state = store.state;
  const now = Date.now() + state.serverOffsetMs;
  feed.catchUp(now);
  for (const view of [...state.stations, ...state.replay.stations]) {
    const key = `${view.meta.line}/${view.meta.station}`;
    const end = view.status?.ts ?? now;
    historyApi.scores(view.meta.line, view.meta.station, end - SPARK_SPAN_MS, end + 1).then(
      (points) => {
        scores.merge(key, points.map((p) => ({ ts: p.ts, score: p.score, threshold: p.threshold })));
        scheduleRender();
      },
      // A sparkline without its past is not worth an error on a wall screen; the live points still come.
      () => undefined,
    );
  }
}

function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  byId('theme-toggle').setAttribute('aria-pressed', String(theme === 'light'));
}

// A `#station=line/station` link (a webhook's stationURL, a bookmark) opens that station's view, at its time if it says.
store.update((s) => reduce.select(s, stationFromFragment(location.hash), windowFromFragment(location.hash)));
window.addEventListener('hashchange', () => store.update((s) => reduce.select(s, stationFromFragment(location.hash), windowFromFragment(location.hash))));

byId('view-live').addEventListener('click', () => store.update((s) => reduce.view(s, 'live')));
byId('view-replay').addEventListener('click', () => store.update((s) => reduce.view(s, 'replay')));
byId('theme-toggle').addEventListener('click', () => {
  const theme: Theme = document.documentElement.dataset.theme === 'light' ? 'dark' : 'light';
  applyTheme(theme);
  storeTheme(localStorage, theme);
  charts.retheme();
  scheduleRender();
});
const languageSelect = byId<HTMLSelectElement>('language');
languageSelect.value = settings.lang;
languageSelect.addEventListener('change', () => {
  const lang = languageSelect.value;
  if (!isLang(lang)) return;
  setLanguage(lang);
  storeLanguage(localStorage, lang);
  applyStaticTexts();
  charts.retheme();
  scheduleRender();
});
installKeyboard(byId('tiles'), () => select(null));

store.subscribe(scheduleRender);
// Ages and staleness move with the clock even when no message arrives.
setInterval(scheduleRender, 1_000);
const socket = connectLine(store, {
  status: (status) => {
    if (status.score !== null && status.threshold !== null) scores.add(`${status.line}/${status.station}`, { ts: status.ts, score: status.score, threshold: status.threshold });
    feed.status(status);
  },
  readings: (batch) => feed.readings(batch),
  reconnected: catchUp,
  replayReset: (line) => scores.dropLine(line),
});
const watch = new StationWatch(socket);
void panel.loadRecordings();
render(store.state);
