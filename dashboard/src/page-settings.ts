import { isLang, type Lang } from './i18n.js';

export type Theme = 'dark' | 'light';

/** How the page is set up: from the URL first (a wall screen is configured by its link), then what was chosen here. */
export interface PageSettings {
  theme: Theme;
  lang: Lang;
  /** Wall-screen mode: no controls, stations cycle while the line is healthy. */
  kiosk: boolean;
  /** Seconds each station shows in kiosk mode. */
  cycleSeconds: number;
}

const THEME_KEY = 'linewatch.theme';
const LANG_KEY = 'linewatch.lang';
const MIN_CYCLE_S = 5;
const DEFAULT_CYCLE_S = 20;

/**
 * Reads the settings from `?theme=light&lang=ko&kiosk&cycle=30` and the stored choices.
 *
 * @example
 * readSettings('?kiosk&cycle=15', storage, 'en-US') // { theme: 'dark', lang: 'en', kiosk: true, cycleSeconds: 15 }
 */
export function readSettings(search: string, storage: Pick<Storage, 'getItem'>, browserLanguage: string): PageSettings {
  const params = new URLSearchParams(search);
  const themeParam = params.get('theme');
  const stored = storage.getItem(THEME_KEY);
  const theme: Theme = themeParam === 'light' || themeParam === 'dark' ? themeParam : stored === 'light' ? 'light' : 'dark';
  const langParam = params.get('lang');
  const storedLang = storage.getItem(LANG_KEY);
  const lang: Lang = isLang(langParam) ? langParam : isLang(storedLang) ? storedLang : browserLanguage.toLowerCase().startsWith('ko') ? 'ko' : 'en';
  const kioskParam = params.get('kiosk');
  const kiosk = kioskParam !== null && kioskParam !== '0' && kioskParam !== 'false';
  const cycle = Number(params.get('cycle'));
  const cycleSeconds = Number.isFinite(cycle) && cycle >= MIN_CYCLE_S ? Math.min(cycle, 3_600) : DEFAULT_CYCLE_S;
  return { theme, lang, kiosk, cycleSeconds };
}

export function storeTheme(storage: Pick<Storage, 'setItem'>, theme: Theme): void {
  storage.setItem(THEME_KEY, theme);
}

export function storeLanguage(storage: Pick<Storage, 'setItem'>, lang: Lang): void {
  storage.setItem(LANG_KEY, lang);
}
