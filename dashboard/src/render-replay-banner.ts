import { byId, setText } from './dom.js';
import type { DashboardState } from './line-store.js';
import { replayBannerText } from './replay-banner.js';

/** The replay banner: pinned above everything while a replay runs or replayed data is on the live line. */
export class ReplayBannerView {
  private readonly banner = byId('replay-banner');
  private readonly run = byId('replay-banner-run');
  private readonly live = byId('replay-banner-live');

  render(state: DashboardState): void {
    const text = replayBannerText(state);
    setText(this.run, text.replay ?? '');
    this.run.hidden = text.replay === null;
    setText(this.live, text.liveLine ?? '');
    this.live.hidden = text.liveLine === null;
    this.banner.hidden = text.replay === null && text.liveLine === null;
    // Replayed data on the live line is the more serious of the two: operators could take it for real.
    this.banner.dataset.kind = text.liveLine ? 'live-line' : 'replay';
  }
}
