import type { WebClient } from '@slack/web-api';
import type { Log } from '../../domain/events.js';
import type { AccessService } from '../../domain/service.js';
import type { SlackDirectory } from './directory.js';

/** What every Slack handler works with. */
export interface SlackDeps {
  service: AccessService;
  directory: SlackDirectory;
  client: WebClient;
  log: Log;
  /** The person was seen in Slack just now (for reaching them where they last were). */
  seen?: (email: string) => Promise<void>;
}
