/** Slack's home surface (src/core/home.ts): the App Home tab, published with `views.publish`. */
import type { WebClient } from '@slack/web-api';
import type { ChatPerson } from '../../core/chat.js';
import type { HomeSurface } from '../../core/home.js';
import type { HomeView } from '../../domain/views/home.js';
import type { SlackDirectory } from './directory.js';
import { renderHome } from './home.js';
import { asJsonArg } from './render.js';

export class SlackHomeSurface implements HomeSurface {
  readonly name = 'slack';

  constructor(
    private readonly client: WebClient,
    private readonly directory: SlackDirectory,
  ) {}

  async reach(email: string): Promise<ChatPerson | null> {
    return this.directory.byEmail(email);
  }

  async publish(person: ChatPerson, view: HomeView): Promise<void> {
    const user = await this.directory.byEmail(person.email);
    if (!user) return; // not (or no longer) on Slack
    // The person filter shows its person by Slack id.
    const filtered = view.sections
      .flatMap((s) => s.filters ?? [])
      .flatMap((f) => (f.kind === 'person' && f.selected ? [f.selected] : []));
    const ids = new Map<string, string>();
    for (const email of filtered) {
      const found = await this.directory.byEmail(email).catch(() => null);
      if (found) ids.set(email, found.userId);
    }
    await this.client.views.publish({
      user_id: user.userId,
      view: asJsonArg(renderHome(view, (e) => ids.get(e))),
    });
  }

  names(emails: string[]): Promise<Map<string, string>> {
    return this.directory.names(emails);
  }
}
