/**
 * The admin and owner cards in Teams ("my access", "dashboard", "access settings") parse strictly
 * with Microsoft's adaptivecards library in every shape the neutral views take: filters of each
 * kind, confirmed buttons, pagers, empty lists, the owner's form with its warning and an inline
 * error, and the read-only form. Typed text stays inert.
 */
import { describe, expect, it } from 'vitest';
import {
  FilterInput,
  HomeVerb,
  OUT_OF_DATE,
  outOfDateCard,
  renderHomeCard,
} from '../../../src/bot/teams/home-card.js';
import { renderSettingsCard, SettingsInput } from '../../../src/bot/teams/settings-card.js';
import {
  INTERRUPT_WARNING,
  JIT_OPTIONS,
  type SettingsFormModel,
  WINDOW_OPTIONS,
} from '../../../src/core/forms/access-settings.js';
import { ONLY_OWNERS } from '../../../src/domain/owner-settings.js';
import type { HomeView } from '../../../src/domain/views/home.js';
import { ActionId, HomeActionId } from '../../../src/domain/views/model.js';
import { adaptiveCardProblems } from '../../support/adaptive-cards.js';
import { type Card, elementsOf, input, textsOf } from '../../support/teams-client.js';

const home: HomeView = {
  title: 'JIT Access',
  lines: ['Ask for temporary access.'],
  actions: [{ id: HomeActionId.requestAccess, label: 'Request access', style: 'primary', value: 'new' }],
  sections: [
    {
      id: 'grants',
      title: 'My access',
      items: [
        {
          title: 'Prod [click](https://evil.example) <at>Megan</at>',
          lines: ['Active · 3 h 05 min left'],
          fields: [{ label: 'Until', value: 'Tue 3 Mar 02:00' }],
          actions: [
            { id: ActionId.extend, label: 'Request extension', value: 'g1' },
            {
              id: ActionId.endAccess,
              label: 'End access now',
              style: 'danger',
              value: 'g1',
              confirm: { title: 'End access?', text: 'It ends now.', confirm: 'End access', deny: 'Keep it' },
            },
          ],
        },
      ],
      empty: 'You hold no access.',
      note: 'Showing 6–10 of 23.',
      pager: [
        { id: HomeActionId.pagePrevious, label: 'Previous', value: 'grants' },
        { id: HomeActionId.pageNext, label: 'Next', value: 'grants' },
      ],
    },
    { id: 'pending', title: 'My pending requests', items: [], empty: 'Nothing is waiting.' },
    {
      id: 'dashboard',
      title: 'Grants dashboard (all resources)',
      filters: [
        {
          kind: 'choice',
          id: HomeActionId.filterResource,
          label: 'Resource',
          placeholder: 'Any resource',
          groups: [
            { options: [{ label: 'Any resource', value: 'any' }] },
            { title: 'Acme', options: [{ label: 'Tenant production', value: 'resource:tenant-prod' }] },
          ],
          selected: { label: 'Tenant production', value: 'resource:tenant-prod' },
        },
        { kind: 'person', id: HomeActionId.filterUser, label: 'Person', placeholder: 'Anyone' },
        {
          kind: 'date',
          id: HomeActionId.filterExpires,
          label: 'Expiring by',
          placeholder: 'Any day',
          selected: '2026-12-04',
        },
      ],
      filterActions: [{ id: HomeActionId.clearFilters, label: 'Clear filters', value: 'clear' }],
      items: [],
      empty: 'No access matches.',
    },
  ],
};

const owner: SettingsFormModel = {
  title: 'Access settings',
  submitLabel: 'Save Changes',
  resource: {
    mode: 'choose',
    label: 'Resource',
    placeholder: 'Choose a resource',
    options: [{ value: 'tenant-prod', label: 'Tenant production' }],
    selected: 'tenant-prod',
  },
  editable: true,
  current: 'Just-in-time access to Tenant production is on.',
  jit: {
    label: 'JIT access',
    options: JIT_OPTIONS,
    value: 'off',
    warning: INTERRUPT_WARNING,
    ifSwitchedOff: INTERRUPT_WARNING,
  },
  window: {
    label: 'Window',
    options: WINDOW_OPTIONS,
    value: 'until',
    date: '2026-12-01',
    time: '10:00',
    timeZone: 'Asia/Tokyo',
    dateLabel: 'Expiration date',
    timeLabel: 'Expiration time (Asia/Tokyo)',
  },
  errors: { window: 'Choose a date and time in the future.' },
  canSubmit: true,
};

describe('the home card', () => {
  const card = renderHomeCard(home, { state: '{}', view: 'mine' }) as unknown as Card;

  it('parses strictly, with every filter kind, confirmed buttons and a pager', () => {
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(input(card, FilterInput.resource)).toMatchObject({
      type: 'Input.ChoiceSet',
      value: 'resource:tenant-prod',
    });
    expect(input(card, FilterInput.user)).toMatchObject({ type: 'Input.Text', style: 'Email' });
    expect(input(card, FilterInput.expiresBy)).toMatchObject({ type: 'Input.Date', value: '2026-12-04' });
    expect(textsOf(card)).toContain('Showing 6–10 of 23.');
    expect(textsOf(card)).toContain('Nothing is waiting.');
  });

  it('carries the state on every button, and keeps typed text inert', () => {
    const executes = elementsOf(card).filter((e) => e.type === 'Action.Execute');
    expect(executes.map((e) => e.verb)).toContain(HomeVerb.filter);
    for (const e of executes) expect(e.data).toMatchObject({ state: '{}', view: 'mine' });
    const raw = JSON.stringify(card);
    expect(raw).not.toContain('[click](https');
    expect(raw).not.toContain('<at>');
  });
});

describe('the card a newer home card replaces', () => {
  it('parses strictly, says where the latest is, and has no button left', () => {
    for (const kind of ['mine', 'dashboard'] as const) {
      const old = outOfDateCard(kind) as unknown as Card;
      expect(adaptiveCardProblems(old)).toEqual([]);
      expect(textsOf(old)).toEqual([kind === 'mine' ? 'My access' : 'Grants dashboard', OUT_OF_DATE]);
      expect(elementsOf(old).filter((e) => String(e.type).startsWith('Action.'))).toEqual([]);
    }
  });
});

describe('the access settings card', () => {
  it('parses strictly for an owner, with the warning and the inline error', () => {
    const card = renderSettingsCard(owner, {
      resourceId: 'tenant-prod',
      version: 0,
      fixed: false,
    }) as unknown as Card;
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(input(card, SettingsInput.time)).toMatchObject({ type: 'Input.Time', value: '10:00' });
    expect(textsOf(card)).toContain(INTERRUPT_WARNING);
    expect(textsOf(card)).toContain('Choose a date and time in the future.');
  });

  it('parses strictly read-only, with the sentence and no Save Changes', () => {
    const readOnly: SettingsFormModel = {
      ...owner,
      resource: {
        mode: 'fixed',
        text: 'Resource: Tenant production (tenant-prod)',
        resourceId: 'tenant-prod',
      },
      editable: false,
      readOnly: ONLY_OWNERS,
      errors: {},
      canSubmit: false,
    };
    delete readOnly.jit;
    delete readOnly.window;
    const card = renderSettingsCard(readOnly, {
      resourceId: 'tenant-prod',
      version: 0,
      fixed: true,
    }) as unknown as Card;
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(textsOf(card)).toContain(ONLY_OWNERS);
    expect(card.actions).toBeUndefined();
  });
});
