import { core } from './i18n/core.js';
import { panels } from './i18n/panels.js';

/** Languages the page speaks. The words a screen shows from across the room (ALARM, OK) stay English in both. */
export const LANGUAGES = ['en', 'ko'] as const;
export type Lang = (typeof LANGUAGES)[number];

const en = { ...core.en, ...panels.en };
/** Every text key; Korean must have each one (the `satisfies` in each dictionary checks it). */
export type TextKey = keyof typeof en;
const dictionaries: Record<Lang, Record<TextKey, string>> = { en, ko: { ...core.ko, ...panels.ko } };

let current: Lang = 'en';

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export function language(): Lang {
  return current;
}

/** Switches the language of every later `t()`; the caller re-renders and re-applies the static texts. */
export function setLanguage(lang: Lang): void {
  current = lang;
  document.documentElement.lang = lang;
}

/**
 * The text for `key` in the current language, with `{name}` placeholders filled.
 *
 * @example
 * t('header.healthy', { healthy: 7, total: 8 }) // '7/8 healthy', or '7/8 정상'
 */
export function t(key: TextKey, params?: Record<string, string | number>): string {
  const text = dictionaries[current][key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Attributes that name a text key: the element's text, its title, placeholder or aria-label. */
const STATIC_ATTRIBUTES = [
  ['data-i18n', null],
  ['data-i18n-title', 'title'],
  ['data-i18n-placeholder', 'placeholder'],
  ['data-i18n-aria-label', 'aria-label'],
] as const;

function known(key: string | null): key is TextKey {
  return key !== null && key in en;
}

/** Fills the fixed texts of the page (index.html marks them with `data-i18n*` attributes) in the current language. */
export function applyStaticTexts(root: ParentNode = document): void {
  for (const [attribute, target] of STATIC_ATTRIBUTES) {
    for (const node of root.querySelectorAll<HTMLElement>(`[${attribute}]`)) {
      const key = node.getAttribute(attribute);
      if (!known(key)) continue;
      if (target === null) node.textContent = t(key);
      else node.setAttribute(target, t(key));
    }
  }
}
