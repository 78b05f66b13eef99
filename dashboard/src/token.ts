/** Where the page keeps the API token: this tab only, gone when it closes. */
export const TOKEN_KEY = 'linewatch.apiToken';

type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Takes `token=...` out of the URL fragment (a fragment never reaches a server or its logs), keeps it in the
 * tab's session storage and returns the fragment without it, for `history.replaceState`, so the token does not
 * stay in the address bar, the history or a screenshot. Returns null when the fragment holds no token.
 *
 * @example
 * takeTokenFromFragment('#token=abc&x=1', sessionStorage) // 'x=1', and 'abc' is stored
 */
export function takeTokenFromFragment(fragment: string, storage: TokenStorage): string | null {
  const parts = fragment.replace(/^#/, '').split('&').filter((p) => p !== '');
  const found = parts.find((p) => p.startsWith('token='));
  if (found === undefined) return null;
  // Not URLSearchParams: it would read a '+' in a token as a space.
  let token: string;
  try {
    token = decodeURIComponent(found.slice('token='.length)).trim();
  } catch {
    token = found.slice('token='.length).trim();
  }
  if (token !== '') storage.setItem(TOKEN_KEY, token);
  return parts.filter((p) => !p.startsWith('token=')).join('&');
}

export function readToken(storage: TokenStorage): string | null {
  const token = storage.getItem(TOKEN_KEY);
  return token ? token : null;
}

export function saveToken(storage: TokenStorage, token: string): void {
  storage.setItem(TOKEN_KEY, token.trim());
}

export function forgetToken(storage: TokenStorage): void {
  storage.removeItem(TOKEN_KEY);
}
