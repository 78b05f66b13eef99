import { vi } from 'vitest';
import { setLanguage } from '../i18n.js';

/** Runs `read` with the page in Korean. `setLanguage` marks `<html lang>`, so a stand-in document is enough in Node. */
export function inKorean<T>(read: () => T): T {
  vi.stubGlobal('document', { documentElement: {} });
  setLanguage('ko');
  try {
    return read();
  } finally {
    setLanguage('en');
    vi.unstubAllGlobals();
  }
}
