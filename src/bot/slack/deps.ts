import type { WebClient } from '@slack/web-api';
import type { HomeSurface, Homes } from '../../core/home.js';
import type { Log } from '../../domain/events.js';
import type { AccessService } from '../../domain/service.js';
import type { SlackDirectory } from './directory.js';

/** What every Slack handler works with. */
export interface SlackDeps {
  service: AccessService;
  directory: SlackDirectory;
  client: WebClient;
  log: Log;
  /** The App Home: shown on `app_home_opened` and after every click in it. */
  home?: { homes: Homes; surface: HomeSurface };
  /** The person was seen in Slack just now (for reaching them where they last were). */
  seen?: (email: string) => Promise<void>;
}
