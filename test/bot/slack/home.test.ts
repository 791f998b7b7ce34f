import { describe, expect, it } from 'vitest';
import { renderHome } from '../../../src/bot/slack/home.js';
import type { HomeItem, HomeView } from '../../../src/domain/views/home.js';
import { HomeActionId } from '../../../src/domain/views/model.js';
import { collectText, validateView } from '../../support/fake-slack.js';

const row = (i: number): HomeItem => ({
  title: `Person ${i} · <!channel> *bold*`,
  lines: ['Active · since Mon · until Tue'],
  actions: [
    { id: HomeActionId.revoke, label: 'Revoke', style: 'danger', value: `g${i}` },
    { id: HomeActionId.details, label: 'Details', value: `g${i}` },
  ],
});

function homeWith(items: number): HomeView {
  return {
    title: 'JIT Access',
    lines: ['Hello'],
    actions: [{ id: HomeActionId.requestAccess, label: 'Request access', value: 'new' }],
    sections: [
      {
        id: 'dashboard',
        title: 'Grants dashboard',
        items: Array.from({ length: items }, (_, i) => row(i)),
        empty: 'No access matches.',
        filters: [
          {
            kind: 'person',
            id: HomeActionId.filterUser,
            label: 'Person',
            placeholder: 'Anyone',
            selected: 'a@example.com',
          },
          {
            kind: 'date',
            id: HomeActionId.filterExpires,
            label: 'Expires by',
            placeholder: 'Expires by',
            selected: '2026-12-03',
          },
        ],
        pager: [
          { id: HomeActionId.pagePrevious, label: 'Previous', value: 'dashboard' },
          { id: HomeActionId.pageNext, label: 'Next', value: 'dashboard' },
        ],
      },
    ],
  };
}

describe('the App Home in Block Kit', () => {
  it('is a home Slack accepts, with typed text escaped and the person filter shown by Slack id', () => {
    const view = renderHome(homeWith(3), (email) => (email === 'a@example.com' ? 'UA' : undefined));
    expect(validateView(view, 'home')).toEqual([]);
    const text = collectText(view.blocks);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    expect(JSON.stringify(view.blocks)).toContain('"initial_user":"UA"');
    expect(JSON.stringify(view.blocks)).toContain('"initial_date":"2026-12-03"');
  });

  it('never passes 100 blocks, and says how many rows of the page it could not show', () => {
    const view = renderHome(homeWith(80));
    expect(validateView(view, 'home')).toEqual([]);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const shown = view.blocks.filter(
      (b) => b.type === 'actions' && /^dashboard\.\d+\.actions$/.test(b.block_id ?? ''),
    ).length;
    expect(collectText(view.blocks)).toContain(`${80 - shown} more on this page could not be shown here`);
    // The pager is kept, so the rest can still be reached.
    expect(JSON.stringify(view.blocks)).toContain(HomeActionId.pageNext);
  });
});
